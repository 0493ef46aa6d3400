"""The browsable API root: a map of the API for people exploring it."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

# (name, URL name) pairs shown at /api/. Apps add theirs as they grow.
API_INDEX: list[tuple[str, str]] = [
    ("schema", "api-schema"),
    ("docs", "api-docs"),
    ("redoc", "api-redoc"),
    ("tracks", "api-tracks"),
    ("genres", "api-genres"),
    ("demographics", "api-demographics"),
    ("history", "api-history"),
    ("events", "api-events"),
    ("recommendations", "api-recommendations"),
]


class ApiRootView(APIView):
    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        links = {}
        for name, url_name in API_INDEX:
            try:
                links[name] = request.build_absolute_uri(reverse(url_name))
            except NoReverseMatch:
                continue  # that part of the API is not built yet
        return Response(links)
