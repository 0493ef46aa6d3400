"""One JSON error shape for the whole API.

Every error, whatever raised it, looks like::

    {"error": {"status": 400, "code": "invalid", "message": "...", "fields": {"age": ["..."]}}}
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler


def error_body(
    *, status: int, code: str, message: str, fields: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    return {"error": {"status": status, "code": code, "message": message, "fields": fields or {}}}


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error detail into ``{"field.sub": ["message", ...]}``."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten(value, name))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        out = {}
        for index, item in enumerate(detail):
            out.update(_flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return out
    return {prefix or "non_field_errors": [str(detail)]}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: Django's 500 handler answers (JSON under /api/)
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        non_field = fields.pop("non_field_errors", [])
        message = non_field[0] if non_field else "Some fields are invalid."
        code = "invalid"
    else:
        detail = getattr(exc, "detail", str(exc))
        message = str(detail)
        fields = {}
        code = str(getattr(detail, "code", None) or getattr(exc, "default_code", "error"))
    response.data = error_body(
        status=response.status_code, code=str(code), message=message, fields=fields
    )
    return response


def json_not_found(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        error_body(status=404, code="not_found", message=f"No API endpoint at {request.path}."),
        status=404,
    )


def json_server_error() -> JsonResponse:
    return JsonResponse(
        error_body(status=500, code="server_error", message="Something went wrong on our side."),
        status=500,
    )
