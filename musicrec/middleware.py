"""Project-wide middleware: per-request log line and rate limiting."""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

logger = logging.getLogger("musicrec.request")

RATE_LIMIT_WINDOW_SECONDS = 60
# Paths that are never rate limited: probes and assets.
RATE_LIMIT_EXEMPT_PREFIXES = ("/healthz", "/static/")
API_PREFIX = "/api/"


class RequestLogMiddleware:
    """One structured log line per request: method, path, status, latency."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        latency_ms = (time.perf_counter() - started) * 1000
        logger.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "latency_ms": round(latency_ms, 2),
            },
        )
        return response


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX) or "application/json" in request.headers.get(
        "Accept", ""
    )


def rate_limit_identity(request: HttpRequest) -> str:
    """Who is counted: the API token, else the listener's session, else the client address.

    Values are hashed so that no token, session key or IP address is written to the cache.
    """
    authorization = request.headers.get("Authorization", "")
    if authorization:
        raw = f"token:{authorization}"
    elif request.session.session_key:
        raw = f"session:{request.session.session_key}"
    else:
        raw = f"ip:{request.META.get('REMOTE_ADDR', '')}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


class RateLimitMiddleware:
    """Fixed-window limit of ``RATE_LIMIT_PER_MINUTE`` requests per listener (or client).

    Counters live in the default cache (Redis in production, so all web processes share them).
    If the cache is down the request is let through: availability beats strictness here.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.RATE_LIMIT_PER_MINUTE
        if limit <= 0 or request.path.startswith(RATE_LIMIT_EXEMPT_PREFIXES):
            return self.get_response(request)
        now = time.time()
        window = math.floor(now / RATE_LIMIT_WINDOW_SECONDS)
        key = f"ratelimit:{rate_limit_identity(request)}:{window}"
        count = _increment(key)
        if count is not None and count > limit:
            retry_after = max(1, math.ceil((window + 1) * RATE_LIMIT_WINDOW_SECONDS - now))
            return too_many_requests(request, limit=limit, retry_after=retry_after)
        return self.get_response(request)


def _increment(key: str) -> int | None:
    try:
        cache.add(key, 0, timeout=RATE_LIMIT_WINDOW_SECONDS + 5)
        return int(cache.incr(key))
    except Exception:
        logger.warning("rate limit counter unavailable", exc_info=True)
        return None


def too_many_requests(request: HttpRequest, *, limit: int, retry_after: int) -> HttpResponse:
    message = (
        f"Too many requests: the limit is {limit} per minute. "
        f"Please wait {retry_after} seconds and try again."
    )
    response: HttpResponse
    if wants_json(request):
        response = JsonResponse(
            {"error": {"status": 429, "code": "throttled", "message": message, "fields": {}}},
            status=429,
        )
    else:
        body = render_to_string(
            "429.html", {"message": message, "retry_after": retry_after}, request=request
        )
        response = HttpResponse(body, status=429)
    response["Retry-After"] = str(retry_after)
    return response
