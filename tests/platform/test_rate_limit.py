"""100 requests a minute per listener (or client), then 429 with Retry-After."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.fixture
def limit(settings: object) -> int:
    settings.RATE_LIMIT_PER_MINUTE = 100  # type: ignore[attr-defined]
    return 100


@pytest.mark.django_db
def test_101st_html_request_gets_429_page(client: Client, limit: int) -> None:
    for _ in range(limit):
        assert client.get("/no-such-page/").status_code == 404
    response = client.get("/no-such-page/")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "text/html" in response["Content-Type"]
    assert b"Too many requests" in response.content


@pytest.mark.django_db
def test_101st_api_request_gets_429_json(client: Client, limit: int) -> None:
    for _ in range(limit):
        client.get("/api/")
    response = client.get("/api/")
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    body = response.json()
    assert body["error"]["status"] == 429
    assert "100 per minute" in body["error"]["message"]


@pytest.mark.django_db
def test_clients_are_counted_separately(limit: int) -> None:
    first = Client(REMOTE_ADDR="10.0.0.1")
    second = Client(REMOTE_ADDR="10.0.0.2")
    for _ in range(limit + 1):
        first.get("/api/")
    assert first.get("/api/").status_code == 429
    assert second.get("/api/").status_code == 200


@pytest.mark.django_db
def test_health_probe_is_never_limited(client: Client, settings: object) -> None:
    settings.RATE_LIMIT_PER_MINUTE = 2  # type: ignore[attr-defined]
    for _ in range(5):
        assert client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_limit_is_configurable(client: Client, settings: object) -> None:
    settings.RATE_LIMIT_PER_MINUTE = 3  # type: ignore[attr-defined]
    statuses = [client.get("/api/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
