"""DRF authentication and permission for listener endpoints.

``ListenerTokenAuthentication`` reads ``Authorization: Token <token>``;
``ListenerSessionAuthentication`` uses the browser session and, like DRF's own session
authentication, enforces CSRF on unsafe methods. ``request.user`` is then the Listener.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, CSRFCheck
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.accounts.identity import (
    listener_from_session,
    listener_from_token_header,
    token_from_header,
)
from apps.accounts.models import Listener

DEMOGRAPHICS_REQUIRED_CODE = "demographics_required"
DEMOGRAPHICS_REQUIRED_MESSAGE = (
    "Complete your demographics first: POST /api/demographics with age, gender, country "
    "and occupation."
)


class ListenerTokenAuthentication(BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request: Request) -> tuple[Listener, str] | None:
        token = token_from_header(request._request)
        if token is None:
            return None
        listener = listener_from_token_header(request._request)
        if listener is None:
            raise exceptions.AuthenticationFailed("Invalid API token.")
        return listener, token

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class ListenerSessionAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Listener, None] | None:
        listener = listener_from_session(request._request)
        if listener is None:
            return None
        self._enforce_csrf(request._request)
        return listener, None

    @staticmethod
    def _enforce_csrf(request: HttpRequest) -> None:
        def get_response(request: HttpRequest) -> Any:
            return None

        check = CSRFCheck(get_response)
        check.process_request(request)
        reason = check.process_view(request, None, (), {})  # type: ignore[arg-type]
        if reason:
            raise exceptions.PermissionDenied(f"CSRF Failed: {reason}")


LISTENER_AUTHENTICATION: list[type[BaseAuthentication]] = [
    ListenerTokenAuthentication,
    ListenerSessionAuthentication,
]


class DemographicsRequired(exceptions.PermissionDenied):
    default_detail = DEMOGRAPHICS_REQUIRED_MESSAGE
    default_code = DEMOGRAPHICS_REQUIRED_CODE


class HasDemographics(BasePermission):
    """A listener who has completed demographics (the gate for every listener endpoint)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        listener = request.user
        if not isinstance(listener, Listener) or not listener.has_demographics:
            raise DemographicsRequired()
        return True


def request_listener(request: Request) -> Listener:
    """The authenticated listener of a view guarded by ``HasDemographics``."""
    listener = request.user
    if not isinstance(listener, Listener):
        raise DemographicsRequired()
    return listener
