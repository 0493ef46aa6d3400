"""How the listener authentication classes appear in the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ListenerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.ListenerTokenAuthentication"
    name = "listenerToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <token>`: create one on the profile page, or from the "
            "response of `POST /api/demographics`.",
        }


class ListenerSessionScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.ListenerSessionAuthentication"
    name = "listenerSession"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
