"""Unknown URLs and API errors: the site's 404 page, one JSON shape, no stack traces."""

from __future__ import annotations

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from musicrec.urls import urlpatterns as project_urlpatterns


class _EchoAgeView(APIView):
    class Input(serializers.Serializer[dict[str, int]]):
        age = serializers.IntegerField(min_value=13, max_value=100)

    def post(self, request: Request) -> Response:
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(data.validated_data)


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("secret internals")


urlpatterns = [
    path("api/test-echo-age", _EchoAgeView.as_view()),
    path("api/test-boom", _boom),
    path("test-boom", _boom),
    *project_urlpatterns,
]
handler404 = "musicrec.views.page_not_found"
handler500 = "musicrec.views.server_error"


@pytest.fixture(autouse=True)
def _routes(settings: object) -> None:
    settings.ROOT_URLCONF = __name__  # type: ignore[attr-defined]
    settings.DEBUG = False  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_unknown_page_uses_site_404(client: Client) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert b"Page not found" in response.content
    assert b"site-header" in response.content


@pytest.mark.django_db
def test_unknown_api_url_is_json(client: Client) -> None:
    response = client.get("/api/no-such-endpoint")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db
def test_validation_error_names_the_field(client: Client) -> None:
    response = client.post("/api/test-echo-age", {"age": 12}, content_type="application/json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == 400
    assert error["code"] == "invalid"
    assert "age" in error["fields"]
    assert "13" in error["fields"]["age"][0]


@pytest.mark.django_db
def test_server_errors_never_show_a_stack_trace() -> None:
    client = Client(raise_request_exception=False)
    html = client.get("/test-boom")
    assert html.status_code == 500
    assert b"Something went wrong" in html.content
    assert b"secret internals" not in html.content
    api = client.get("/api/test-boom")
    assert api.status_code == 500
    assert api.json()["error"]["code"] == "server_error"
    assert b"secret internals" not in api.content
