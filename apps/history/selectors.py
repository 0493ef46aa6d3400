"""Reads of the listening history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.identity import get_listener
from apps.accounts.models import Listener
from apps.history.models import HISTORY_LIMIT, HISTORY_WARNING_FROM, EventType, HistoryEntry

_SUMMARY_ATTR = "_musicrec_history_summary"


def history_entries(*, listener: Listener) -> QuerySet[HistoryEntry]:
    """The listener's history in the order added, with what the panel shows of each track."""
    return (
        HistoryEntry.objects.filter(listener=listener)
        .select_related("track", "track__artist")
        .order_by("position")
    )


@dataclass(frozen=True)
class HistorySummary:
    entries: list[HistoryEntry]

    @property
    def count(self) -> int:
        return len(self.entries)

    @property
    def limit(self) -> int:
        return HISTORY_LIMIT

    @property
    def slots_left(self) -> int:
        return max(0, HISTORY_LIMIT - self.count)

    @property
    def full(self) -> bool:
        return self.count >= HISTORY_LIMIT

    @property
    def warning(self) -> bool:
        return HISTORY_WARNING_FROM <= self.count < HISTORY_LIMIT

    @property
    def track_ids(self) -> frozenset[int]:
        return frozenset(entry.track_id for entry in self.entries)

    @property
    def first_track_id(self) -> int | None:
        return self.entries[0].track_id if self.entries else None


EMPTY_SUMMARY = HistorySummary(entries=[])


def history_summary(*, listener: Listener | None) -> HistorySummary:
    if listener is None:
        return EMPTY_SUMMARY
    return HistorySummary(entries=list(history_entries(listener=listener)))


def history_summary_for_request(request: HttpRequest, *, refresh: bool = False) -> HistorySummary:
    """The request's history summary, read once per request (``refresh`` after a change)."""
    if refresh or not hasattr(request, _SUMMARY_ATTR):
        setattr(request, _SUMMARY_ATTR, history_summary(listener=get_listener(request)))
    summary: HistorySummary = getattr(request, _SUMMARY_ATTR)
    return summary


def evaluation_event_rows() -> tuple[
    list[tuple[int, int, float, datetime]], list[dict[str, Any]], list[dict[str, Any]]
]:
    """Our own listeners as an offline-evaluation dataset (``manage.py evaluate --dataset events``).

    Returns ``(events, listeners, tracks)`` as ``apps.recommend.engine.evaluation.readers``
    expects: histories as weight-1 rows plus likes and plays from the event store, with the same
    weights the recommender trains on.
    """
    from apps.catalog.models import Track
    from apps.history.eventstore import get_event_store
    from apps.recommend.adapters import EVENT_WEIGHTS

    events: list[tuple[int, int, float, datetime]] = [
        (listener_id, track_id, EVENT_WEIGHTS[EventType.ADD], added_at)
        for listener_id, track_id, added_at in HistoryEntry.objects.values_list(
            "listener_id", "track_id", "added_at"
        ).iterator(chunk_size=20_000)
    ]
    for event in get_event_store().iter_events(types=[EventType.LIKE, EventType.PLAY]):
        if event.track is not None:
            events.append((event.listener, event.track, EVENT_WEIGHTS[event.type], event.timestamp))
    listeners = [
        {
            "listener_id": row["id"],
            "age": row["age"],
            "gender": row["gender"],
            "country": str(row["country"] or ""),
            "occupation": row["occupation"],
        }
        for row in Listener.objects.filter(demographics_completed_at__isnull=False).values(
            "id", "age", "gender", "country", "occupation"
        )
    ]
    track_ids = {track_id for _, track_id, _, _ in events}
    tracks = [
        {
            "track_id": row["id"],
            "title": row["title"],
            "artist": row["artist__name"],
            "genres": [row["genre_top_id"]] if row["genre_top_id"] else [],
            "tags": row["tags"] or [],
            "year": row["year"],
            "popularity": row["listens"],
        }
        for row in Track.objects.filter(id__in=track_ids).values(
            "id", "title", "artist__name", "genre_top_id", "tags", "year", "listens"
        )
    ]
    return events, listeners, tracks
