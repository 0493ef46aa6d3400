"""The demographics gate: nothing listener-facing works before demographics are complete.

Every view of our apps (``apps.*``) is gated except an explicit list of public paths, so a new
listener page is safe by default; project views (health, schema, admin) are not listener pages.
HTML requests are redirected to the form (HTMX requests via ``HX-Redirect``); API requests get
a 403 in the common JSON error shape naming the missing step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django_htmx.http import HttpResponseClientRedirect

from apps.accounts.authentication import DEMOGRAPHICS_REQUIRED_CODE, DEMOGRAPHICS_REQUIRED_MESSAGE
from apps.accounts.identity import get_listener, listener_from_token_header, token_from_header
from musicrec.api_errors import error_body
from musicrec.middleware import API_PREFIX

WELCOME_PATH = "/welcome"
PUBLIC_PREFIXES = (
    "/welcome",
    "/demographics",
    "/healthz",
    "/admin/",
    "/static/",
    "/favicon.ico",
    "/robots.txt",
    "/api/schema/",
    "/api/docs/",
    "/api/redoc/",
    "/api/demographics",  # creating a profile through the API is the first step
    "/api/tracks",
    "/api/genres",
    "/api/artists",
)
PUBLIC_EXACT = ("/api/",)
GATED_MODULES = "apps."


def is_public(path: str) -> bool:
    return path in PUBLIC_EXACT or path.startswith(PUBLIC_PREFIXES)


def _is_app_view(view: Callable[..., Any]) -> bool:
    view_class = getattr(view, "view_class", None) or getattr(view, "cls", None)
    module = getattr(view_class or view, "__module__", "") or ""
    return module.startswith(GATED_MODULES)


class DemographicsGateMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        # After URL resolution: unknown paths still answer 404, not a redirect.
        if is_public(request.path) or not _is_app_view(view):
            return None
        if request.path.startswith(API_PREFIX):
            return self._api_gate(request)
        listener = get_listener(request)
        if listener is not None and listener.has_demographics:
            return None
        target = f"{WELCOME_PATH}?{urlencode({'next': request.get_full_path()})}"
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(target)
        return redirect(target)

    @staticmethod
    def _api_gate(request: HttpRequest) -> HttpResponse | None:
        token = token_from_header(request)
        if token is not None and listener_from_token_header(request) is None:
            body = error_body(
                status=401, code="authentication_failed", message="Invalid API token."
            )
            response = JsonResponse(body, status=401)
            response["WWW-Authenticate"] = "Token"
            return response
        listener = get_listener(request)
        if listener is not None and listener.has_demographics:
            return None
        body = error_body(
            status=403, code=DEMOGRAPHICS_REQUIRED_CODE, message=DEMOGRAPHICS_REQUIRED_MESSAGE
        )
        return JsonResponse(body, status=403)
