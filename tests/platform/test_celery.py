"""Celery: a task goes through the real Redis broker to a worker and its result comes back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from celery.contrib.testing.worker import start_worker

from musicrec.celery import app, ping


def test_eager_mode_runs_inline_without_a_broker(settings: object) -> None:
    if not app.conf.task_always_eager:
        pytest.skip("a broker is configured: tasks go through it (see the redis test)")
    assert ping.delay("hello").get(timeout=1) == "hello"


@pytest.fixture
def redis_worker() -> Iterator[None]:
    was_eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield
    finally:
        app.conf.task_always_eager = was_eager


@pytest.mark.redis
def test_round_trip_through_redis_broker(redis_worker: None) -> None:
    assert app.conf.broker_url.startswith("redis")
    result = ping.delay("round trip")
    assert result.get(timeout=20) == "round trip"
    assert result.status == "SUCCESS"
