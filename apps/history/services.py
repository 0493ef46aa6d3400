"""Writes to the listening history and the event outbox.

Every change commits together with its outbox row (nothing is lost if the event store is
down); after the commit the listener's cached recommendations are dropped and the outbox drain
is queued. ``outbox_drain`` moves outbox rows into the event store exactly once per event id.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from apps.accounts.models import Listener
from apps.catalog.models import Track
from apps.history.eventstore import Event, get_event_store
from apps.history.models import (
    HISTORY_LIMIT,
    EventType,
    HistoryEntry,
    OutboxEvent,
    OutboxState,
)

logger = logging.getLogger(__name__)

OUTBOX_BATCH_SIZE = 200
# A worker that claimed rows and died: its rows are claimable again after this long.
OUTBOX_CLAIM_TIMEOUT = timedelta(minutes=5)
OUTBOX_BACKOFF_BASE_SECONDS = 5
OUTBOX_BACKOFF_MAX_SECONDS = 600
# Sent rows are kept this long (to look into a delivery in the admin), then deleted: the event
# store holds the events, and an outbox that only grows slows every claim.
OUTBOX_SENT_RETENTION = timedelta(days=7)
OUTBOX_PURGE_BATCH_SIZE = 5_000


class HistoryError(Exception):
    """A history change refused for a reason the listener can act on."""

    code = "history_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TrackNotFound(HistoryError):
    code = "track_not_found"


class AlreadyInHistory(HistoryError):
    code = "already_in_history"


class HistoryFull(HistoryError):
    code = "history_full"


class NotInHistory(HistoryError):
    code = "not_in_history"


class FirstSongLocked(HistoryError):
    code = "first_song_locked"


# --- Outbox ------------------------------------------------------------------------------------


def outbox_event_add(
    *,
    listener_id: int,
    type: str,
    track_id: int | None = None,
    was_recommended: bool = False,
    recommendation_confidence: float | None = None,
    recommendation_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> Event:
    """Record an event in the outbox: call inside the transaction of the change it describes."""
    event = Event.new(
        listener=listener_id,
        type=type,
        track=track_id,
        was_recommended=was_recommended,
        recommendation_confidence=recommendation_confidence,
        recommendation_id=recommendation_id,
        details=details or {},
    )
    OutboxEvent.objects.create(
        event_id=uuid.UUID(event.event_id),
        listener_id=listener_id,
        payload=event.to_json(),
        available_at=event.timestamp,
    )
    transaction.on_commit(outbox_drain_enqueue, robust=True)
    return event


def outbox_drain_enqueue() -> None:
    """Queue the drain task; a broker outage only delays delivery (the beat drain catches up)."""
    from apps.history.tasks import drain_outbox

    try:
        drain_outbox.delay()
    except Exception:
        logger.warning("could not queue the outbox drain", exc_info=True)


def outbox_claim(*, batch_size: int = OUTBOX_BATCH_SIZE) -> tuple[uuid.UUID, list[OutboxEvent]]:
    """Claim up to ``batch_size`` due rows for this worker.

    The conditional UPDATE (state still claimable) is the lock: when two workers pick the same
    ids, PostgreSQL re-checks the condition after the first one's update commits, so the second
    gets none of them.
    """
    now = timezone.now()
    claimable = Q(state=OutboxState.PENDING, available_at__lte=now) | Q(
        state=OutboxState.SENDING, claimed_at__lt=now - OUTBOX_CLAIM_TIMEOUT
    )
    ids = list(
        OutboxEvent.objects.filter(claimable)
        .order_by("id")
        .values_list("id", flat=True)[:batch_size]
    )
    token = uuid.uuid4()
    if ids:
        OutboxEvent.objects.filter(claimable, id__in=ids).update(
            state=OutboxState.SENDING, claim_token=token, claimed_at=now
        )
    rows = list(OutboxEvent.objects.filter(claim_token=token, state=OutboxState.SENDING))
    return token, rows


def outbox_backoff(attempts: int) -> timedelta:
    seconds = min(
        OUTBOX_BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1), OUTBOX_BACKOFF_MAX_SECONDS
    )
    return timedelta(seconds=seconds)


@dataclass(frozen=True)
class DrainResult:
    claimed: int
    written: int


def outbox_drain(*, batch_size: int = OUTBOX_BATCH_SIZE, max_batches: int = 50) -> DrainResult:
    """Send due outbox rows to the event store, batch by batch, until none are left.

    A store error releases the batch for a later attempt (with backoff) and is re-raised for
    the task to retry. Writes are idempotent by event id, so a batch sent but not marked (a crash
    in between) is harmless when sent again.
    """
    store = get_event_store()
    claimed = written = 0
    for _ in range(max_batches):
        token, rows = outbox_claim(batch_size=batch_size)
        if not rows:
            break
        claimed += len(rows)
        events = [Event.from_json(row.payload) for row in rows]
        try:
            written += store.write_events(events)
            for event in events:
                if event.type == EventType.ADD and event.recommendation_id and event.track:
                    store.mark_prediction_selected(
                        log_id=event.recommendation_id, track=event.track
                    )
        except Exception as exc:
            _outbox_release(token, error=exc)
            raise
        OutboxEvent.objects.filter(claim_token=token, state=OutboxState.SENDING).update(
            state=OutboxState.SENT, sent_at=timezone.now(), last_error=""
        )
    return DrainResult(claimed=claimed, written=written)


def _outbox_release(token: uuid.UUID, *, error: BaseException) -> None:
    now = timezone.now()
    for row in OutboxEvent.objects.filter(claim_token=token, state=OutboxState.SENDING):
        attempts = row.attempts + 1
        OutboxEvent.objects.filter(pk=row.pk, claim_token=token).update(
            state=OutboxState.PENDING,
            attempts=attempts,
            available_at=now + outbox_backoff(attempts),
            claim_token=None,
            last_error=f"{type(error).__name__}: {error}"[:500],
        )


def outbox_purge_sent(*, older_than: timedelta = OUTBOX_SENT_RETENTION) -> int:
    """Delete rows sent more than ``older_than`` ago, in batches; return how many went.

    Rows not sent (pending, including those waiting to be retried, and sending) stay whatever
    their age: the store does not have them.
    """
    cutoff = timezone.now() - older_than
    deleted = 0
    while True:
        ids = list(
            OutboxEvent.objects.filter(state=OutboxState.SENT, sent_at__lt=cutoff)
            .order_by("id")
            .values_list("id", flat=True)[:OUTBOX_PURGE_BATCH_SIZE]
        )
        if not ids:
            return deleted
        # the conditions again: a row requeued and sent again meanwhile is not old any more
        count, _ = OutboxEvent.objects.filter(
            id__in=ids, state=OutboxState.SENT, sent_at__lt=cutoff
        ).delete()
        deleted += count


def outbox_requeue(*, ids: Sequence[int]) -> int:
    """Make rows due now (the admin's "send again"; the store ignores events it has)."""
    return OutboxEvent.objects.filter(id__in=list(ids)).update(
        state=OutboxState.PENDING, available_at=timezone.now(), claim_token=None
    )


# --- History -----------------------------------------------------------------------------------


def _after_history_change(listener_id: int) -> None:
    from apps.recommend.cache import invalidate_listener

    invalidate_listener(listener_id)


def _lock_listener(listener: Listener) -> Listener:
    # Serializes every history change of one listener: the count below cannot go stale.
    return Listener.objects.select_for_update().only("id", "history_version").get(pk=listener.pk)


def history_add(
    *,
    listener: Listener,
    track_id: int,
    was_recommended: bool = False,
    recommendation_confidence: float | None = None,
    recommendation_id: str | None = None,
) -> HistoryEntry:
    if not Track.objects.filter(pk=track_id).exists():
        raise TrackNotFound(f"There is no track with id {track_id}.")
    with transaction.atomic():
        _lock_listener(listener)
        entries = HistoryEntry.objects.filter(listener=listener)
        if entries.filter(track_id=track_id).exists():
            raise AlreadyInHistory("This song is already in your history.")
        if entries.count() >= HISTORY_LIMIT:
            raise HistoryFull("Maximum limit reached. Please remove songs to continue.")
        last = entries.aggregate(last=Max("position"))["last"] or 0
        entry = HistoryEntry.objects.create(
            listener=listener, track_id=track_id, position=last + 1, was_recommended=was_recommended
        )
        outbox_event_add(
            listener_id=listener.pk,
            type=EventType.ADD,
            track_id=track_id,
            was_recommended=was_recommended,
            recommendation_confidence=recommendation_confidence,
            recommendation_id=recommendation_id,
        )
        Listener.objects.filter(pk=listener.pk).update(history_version=F("history_version") + 1)
        transaction.on_commit(partial(_after_history_change, listener.pk), robust=True)
    return entry


def history_remove(*, listener: Listener, track_id: int) -> None:
    with transaction.atomic():
        _lock_listener(listener)
        entries = HistoryEntry.objects.filter(listener=listener).order_by("position")
        entry = entries.filter(track_id=track_id).first()
        if entry is None:
            raise NotInHistory("This song is not in your history.")
        first = entries.values_list("pk", flat=True).first()
        if entry.pk == first:
            raise FirstSongLocked("The first song in your history cannot be removed.")
        entry.delete()
        outbox_event_add(listener_id=listener.pk, type=EventType.REMOVE, track_id=track_id)
        Listener.objects.filter(pk=listener.pk).update(history_version=F("history_version") + 1)
        transaction.on_commit(partial(_after_history_change, listener.pk), robust=True)


def event_record(
    *,
    listener: Listener,
    type: str,
    track_id: int,
    was_recommended: bool = False,
    recommendation_confidence: float | None = None,
    recommendation_id: str | None = None,
) -> Event:
    """Record a play, like or skip (history changes record their own events)."""
    if type not in {EventType.PLAY, EventType.LIKE, EventType.SKIP}:
        raise ValueError(f"not a listening event type: {type!r}")
    if not Track.objects.filter(pk=track_id).exists():
        raise TrackNotFound(f"There is no track with id {track_id}.")
    with transaction.atomic():
        return outbox_event_add(
            listener_id=listener.pk,
            type=type,
            track_id=track_id,
            was_recommended=was_recommended,
            recommendation_confidence=recommendation_confidence,
            recommendation_id=recommendation_id,
        )


def demographics_event_add(*, listener_id: int, details: dict[str, Any]) -> Event:
    """The demographics change event (call inside the change's transaction)."""
    return outbox_event_add(listener_id=listener_id, type=EventType.DEMOGRAPHICS, details=details)
