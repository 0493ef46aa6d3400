"""The outbox: history changes never wait for the event store, and every event arrives once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from celery.exceptions import Retry
from django.utils import timezone

from apps.accounts.models import Listener
from apps.history.eventstore import Event, EventStore, use_event_store
from apps.history.models import ListeningEvent, OutboxEvent, OutboxState
from apps.history.services import (
    OUTBOX_CLAIM_TIMEOUT,
    OUTBOX_SENT_RETENTION,
    history_add,
    history_remove,
    outbox_claim,
    outbox_drain,
)
from apps.history.tasks import drain_outbox, purge_outbox
from tests.factories import make_tracks
from tests.history.conftest import FlakyStore, monty_store

pytestmark = pytest.mark.django_db


def _later(monkeypatch: pytest.MonkeyPatch, delta: timedelta) -> None:
    """Move the services' clock forward (the backoff has to pass before a retry)."""
    real_now = timezone.now
    monkeypatch.setattr("apps.history.services.timezone.now", lambda: real_now() + delta)


def _stored_ids(store: EventStore) -> list[str]:
    return [event.event_id for event in store.iter_events()]


def test_with_the_sql_store_events_arrive_on_commit(
    listener: Listener, django_capture_on_commit_callbacks: Any
) -> None:
    tracks = make_tracks(2)

    with django_capture_on_commit_callbacks(execute=True):
        history_add(listener=listener, track_id=tracks[0].pk)
        history_add(listener=listener, track_id=tracks[1].pk)
    with django_capture_on_commit_callbacks(execute=True):
        history_remove(listener=listener, track_id=tracks[1].pk)

    stored = ListeningEvent.objects.filter(listener_id=listener.pk)
    assert sorted(stored.values_list("type", flat=True)) == ["add", "add", "demographics", "remove"]
    assert set(OutboxEvent.objects.values_list("state", flat=True)) == {OutboxState.SENT}


def test_mongo_down_adds_still_succeed_and_after_recovery_every_event_arrives_once(
    listener: Listener, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FlakyStore(monty_store())
    tracks = make_tracks(6)
    with use_event_store(store):
        outbox_drain()  # the listener's demographics event goes through while the store is up
        store.down = True
        for track in tracks:
            with django_capture_on_commit_callbacks(execute=True):
                history_add(listener=listener, track_id=track.pk)
        with django_capture_on_commit_callbacks(execute=True):
            history_remove(listener=listener, track_id=tracks[3].pk)

        assert listener.history.count() == 5
        pending = OutboxEvent.objects.exclude(state=OutboxState.SENT)
        assert pending.count() == 7
        assert all(
            row.attempts >= 1 and "ServerSelectionTimeoutError" in row.last_error for row in pending
        )
        assert len(store.inner.events_for(listener.pk).events) == 1

        store.down = False
        _later(monkeypatch, timedelta(hours=1))
        drain_outbox.delay()
        drain_outbox.delay()  # a second drain finds nothing left to send

    ids = _stored_ids(store.inner)
    expected = {str(e) for e in OutboxEvent.objects.values_list("event_id", flat=True)}
    assert len(ids) == 8
    assert Counter(ids).most_common(1)[0][1] == 1
    assert set(ids) == expected
    assert set(OutboxEvent.objects.values_list("state", flat=True)) == {OutboxState.SENT}


class LostAcknowledgementStore(FlakyStore):
    """Writes the events, then fails as if the connection dropped before the reply."""

    def write_events(self, events: list[Event]) -> int:
        written = self.inner.write_events(events)
        if self.down:
            raise ConnectionError("connection reset by peer")
        return written


def test_a_batch_written_but_not_marked_is_not_stored_twice(
    listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LostAcknowledgementStore(monty_store())
    track = make_tracks(1)[0]
    history_add(listener=listener, track_id=track.pk)
    store.down = True

    with use_event_store(store), pytest.raises(ConnectionError):  # type: ignore[arg-type]
        outbox_drain()
    assert OutboxEvent.objects.filter(state=OutboxState.PENDING).count() == 2

    store.down = False
    _later(monkeypatch, timedelta(hours=1))
    with use_event_store(store):  # type: ignore[arg-type]
        result = outbox_drain()

    assert result.claimed == 2
    assert result.written == 0  # already there: the store ignored the resend
    assert len(_stored_ids(store.inner)) == 2


def test_two_claims_never_share_rows(listener: Listener) -> None:
    for track in make_tracks(4):
        history_add(listener=listener, track_id=track.pk)

    _first_token, first = outbox_claim(batch_size=3)
    _second_token, second = outbox_claim(batch_size=10)

    assert len(first) == 3
    assert len(second) == 2  # 5 events: demographics + 4 adds
    assert not {row.pk for row in first} & {row.pk for row in second}
    assert outbox_claim()[1] == []


def test_rows_of_a_crashed_worker_are_claimed_again_after_the_timeout(
    listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, claimed = outbox_claim()
    assert len(claimed) == 1
    assert outbox_claim()[1] == []

    _later(monkeypatch, OUTBOX_CLAIM_TIMEOUT + timedelta(seconds=1))

    assert [row.pk for row in outbox_claim()[1]] == [claimed[0].pk]


def test_the_task_retries_transient_errors_with_backoff(
    listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FlakyStore(monty_store())
    store.down = True
    retries: list[int] = []

    def fake_retry(*, exc: Exception, countdown: int) -> Retry:
        retries.append(countdown)
        return Retry(exc=exc)

    monkeypatch.setattr(drain_outbox, "retry", fake_retry)
    drain_outbox.push_request(is_eager=False, retries=2)  # type: ignore[call-arg]
    try:
        with use_event_store(store), pytest.raises(Retry):
            drain_outbox.run()
    finally:
        drain_outbox.pop_request()

    assert retries == [20]


def test_the_task_does_not_retry_other_errors(
    listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    class BrokenStore(FlakyStore):
        def write_events(self, events: list[Event]) -> int:
            raise ValueError("a bug, not an outage")

    monkeypatch.setattr(drain_outbox, "retry", lambda **kw: pytest.fail("must not retry"))
    with use_event_store(BrokenStore(monty_store())), pytest.raises(ValueError):  # type: ignore[arg-type]
        drain_outbox.run()


def test_sent_rows_are_purged_after_a_week_and_nothing_else(
    listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("apps.history.services.OUTBOX_PURGE_BATCH_SIZE", 2)  # several batches
    now = timezone.now()
    old = now - OUTBOX_SENT_RETENTION - timedelta(hours=1)
    recent = now - OUTBOX_SENT_RETENTION + timedelta(hours=1)

    def row(state: str, sent_at: Any, created_at: Any = None) -> OutboxEvent:
        made = OutboxEvent.objects.create(
            listener=listener, payload={}, state=state, available_at=now, sent_at=sent_at
        )
        if created_at is not None:  # auto_now_add: backdate after creation
            OutboxEvent.objects.filter(pk=made.pk).update(created_at=created_at)
        return made

    OutboxEvent.objects.all().delete()  # the listener's own demographics event
    old_sent = [row(OutboxState.SENT, old) for _ in range(3)]
    kept = [
        row(OutboxState.SENT, recent),
        # never delivered, however old: the store does not have them
        row(OutboxState.PENDING, None, created_at=old),
        row(OutboxState.SENDING, None, created_at=old),
        # sent long ago, then requeued from the admin ("send again"): not sent any more
        row(OutboxState.PENDING, old, created_at=old),
    ]

    assert purge_outbox.delay().get() == 3
    remaining = set(OutboxEvent.objects.values_list("pk", flat=True))
    assert remaining == {r.pk for r in kept}
    assert not remaining & {r.pk for r in old_sent}
    assert purge_outbox.delay().get() == 0  # nothing more to do


def test_the_purge_is_on_the_beat_schedule() -> None:
    from django.conf import settings

    entries = {e["task"]: e for e in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "history.purge_outbox" in entries
