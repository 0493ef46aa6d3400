"""/healthz reports every dependency and keeps answering when one is down."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import DatabaseError
from django.test import Client

BROKEN_REDIS_CACHE = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        # Port 1 on loopback: nothing listens there, so connecting fails at once.
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
            "IGNORE_EXCEPTIONS": True,
        },
    }
}


@pytest.mark.django_db
def test_reports_each_check(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    checks = response.json()["checks"]
    assert set(checks) == {"database", "cache", "broker", "event_store", "model"}
    assert checks["database"]["status"] == "ok"
    assert checks["cache"]["status"] == "ok"
    for check in checks.values():
        assert check["status"] in {"ok", "degraded", "down"}
        assert check["latency_ms"] >= 0


@pytest.mark.django_db
def test_broken_cache_is_down_but_page_answers(client: Client, settings: object) -> None:
    settings.CACHES = BROKEN_REDIS_CACHE  # type: ignore[attr-defined]
    response = client.get("/healthz")
    assert response.status_code == 200  # the database still answers
    body = response.json()
    assert body["checks"]["cache"]["status"] == "down"
    assert body["status"] == "degraded"


@pytest.mark.django_db
def test_database_down_gives_503(client: Client) -> None:
    with mock.patch("musicrec.health.check_database", side_effect=DatabaseError("gone")):
        from musicrec import health

        with mock.patch.dict(health.CHECKS, {"database": health.check_database}):
            response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["status"] == "down"
    assert response.json()["status"] == "down"
