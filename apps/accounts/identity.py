"""Who is asking: the listener behind a request (session cookie or API token).

The session stores only the listener's id. API tokens are random, shown once, and kept as a
SHA-256 hash (a token has 256 bits of entropy, so a slow password hash buys nothing).
"""

from __future__ import annotations

import hashlib
import secrets

from django.http import HttpRequest

from apps.accounts.models import Listener

SESSION_KEY = "listener_id"
TOKEN_PREFIX = "mr_"  # noqa: S105 - a prefix that makes leaked tokens greppable
_CACHE_ATTR = "_musicrec_listener"
_TOKEN_CACHE_ATTR = "_musicrec_token_listener"  # noqa: S105 - an attribute name


def token_generate() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_from_header(request: HttpRequest) -> str | None:
    """The token of ``Authorization: Token <token>``; None without such a header."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "token" or not value.strip():
        return None
    return value.strip()


def listener_for_token(token: str) -> Listener | None:
    return Listener.objects.filter(api_token_hash=token_hash(token)).first()


def listener_from_session(request: HttpRequest) -> Listener | None:
    """The session's listener (looked up once per request)."""
    if hasattr(request, _CACHE_ATTR):
        cached: Listener | None = getattr(request, _CACHE_ATTR)
        return cached
    listener_id = request.session.get(SESSION_KEY)
    listener = Listener.objects.filter(pk=listener_id).first() if listener_id else None
    setattr(request, _CACHE_ATTR, listener)
    return listener


def listener_from_token_header(request: HttpRequest) -> Listener | None:
    """The listener of the request's API token (looked up once per request)."""
    if not hasattr(request, _TOKEN_CACHE_ATTR):
        token = token_from_header(request)
        setattr(request, _TOKEN_CACHE_ATTR, listener_for_token(token) if token else None)
    cached: Listener | None = getattr(request, _TOKEN_CACHE_ATTR)
    return cached


def get_listener(request: HttpRequest) -> Listener | None:
    """The request's listener: an API token wins over the session."""
    if token_from_header(request) is not None:
        return listener_from_token_header(request)
    return listener_from_session(request)


def session_attach(request: HttpRequest, listener: Listener) -> None:
    # A new session key on "sign-in" so a planted cookie cannot ride along (session fixation).
    request.session.cycle_key()
    request.session[SESSION_KEY] = listener.pk
    setattr(request, _CACHE_ATTR, listener)


def session_detach(request: HttpRequest) -> None:
    request.session.flush()
    setattr(request, _CACHE_ATTR, None)
