"""The demographics gate: listener pages and API gated, public pages open."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.accounts.middleware import is_public
from tests.conftest import login_listener
from tests.factories import make_listener

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path", ["/", "/profile", "/profile/export", "/tracks/2", "/recommendations"]
)
def test_gated_pages_are_not_public(path: str) -> None:
    assert not is_public(path)


@pytest.mark.parametrize(
    "path",
    [
        "/healthz",
        "/admin/login/",
        "/api/schema/",
        "/api/docs/",
        "/api/tracks",
        "/api/genres",
        "/api/artists",
        "/static/css/site.css",
        "/welcome",
    ],
)
def test_public_paths(path: str) -> None:
    assert is_public(path)


def test_the_search_page_redirects_to_the_form(client: Client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/welcome")


def test_a_listener_without_demographics_is_gated_too(client: Client) -> None:
    login_listener(client, make_listener(demographics=False))

    page = client.get("/profile")
    api = client.get("/api/history")

    assert page.status_code == 302
    assert api.status_code == 403
    assert api.json()["error"]["code"] == "demographics_required"


def test_public_pages_answer_without_a_profile(client: Client) -> None:
    assert client.get("/healthz").status_code in {200, 503}
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/welcome").status_code == 200


def test_unknown_paths_are_404_not_redirects(client: Client) -> None:
    assert client.get("/no-such-page").status_code == 404


def test_healthz_reports_the_event_store(client: Client) -> None:
    checks = client.get("/healthz").json()["checks"]
    assert checks["event_store"] == {**checks["event_store"], "status": "ok", "detail": "sql"}


def test_the_schema_lists_the_listener_endpoints(client: Client) -> None:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path in ("/api/demographics", "/api/history", "/api/history/{track_id}", "/api/events"):
        assert path in schema["paths"]


def test_project_views_are_not_listener_pages(client: Client) -> None:
    # /api/ (the API root) is a project view: open, while app views under /api/ are gated.
    assert client.get("/api/").status_code == 200
    assert client.get("/api/events").status_code == 403
