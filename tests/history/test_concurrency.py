"""The 50-song limit holds when many adds for one listener race (PostgreSQL row locks)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from apps.history.models import HISTORY_LIMIT, HistoryEntry, OutboxEvent
from apps.history.services import AlreadyInHistory, HistoryFull, history_add
from tests.factories import make_listener, make_tracks

ATTEMPTS = 100
# Connections this test leaves free for everyone else on a shared server.
CONNECTION_HEADROOM = 15


def _free_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_connections")
        maximum = int(cursor.fetchone()[0])
        cursor.execute("SELECT count(*) FROM pg_stat_activity")
        used = int(cursor.fetchone()[0])
    return maximum - used - CONNECTION_HEADROOM


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_hundred_simultaneous_adds_end_with_exactly_fifty_entries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Eager Celery is not thread-safe (apply() flips a process-global "join would block" flag),
    # and delivery is not what this test is about: the rows stay in the outbox.
    monkeypatch.setattr("apps.history.services.outbox_drain_enqueue", lambda: None)
    listener = make_listener()
    tracks = make_tracks(ATTEMPTS - 10)
    # 90 distinct tracks and 10 repeats: both the limit and the uniqueness are contended.
    track_ids = [t.pk for t in tracks] + [t.pk for t in tracks[:10]]
    workers = min(ATTEMPTS, _free_connections())
    assert workers >= 20, f"too few free PostgreSQL connections for a meaningful race: {workers}"
    start = threading.Barrier(workers)
    outcomes: list[str] = []
    lock = threading.Lock()

    def add(index: int, track_id: int) -> None:
        try:
            if index < workers:  # the first wave starts together; the rest follow at once
                start.wait(timeout=30)
            try:
                history_add(listener=listener, track_id=track_id)
                outcome = "added"
            except HistoryFull:
                outcome = "full"
            except AlreadyInHistory:
                outcome = "duplicate"
            with lock:
                outcomes.append(outcome)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(
            pool.map(add, range(ATTEMPTS), track_ids)
        )  # any other exception (a 5xx in a view) fails here

    entries = HistoryEntry.objects.filter(listener=listener)
    assert len(outcomes) == ATTEMPTS
    assert outcomes.count("added") == HISTORY_LIMIT
    assert entries.count() == HISTORY_LIMIT
    assert entries.values("track_id").distinct().count() == HISTORY_LIMIT
    assert sorted(entries.values_list("position", flat=True)) == list(range(1, HISTORY_LIMIT + 1))
    assert (
        OutboxEvent.objects.filter(listener=listener, payload__type="add").count() == HISTORY_LIMIT
    )
