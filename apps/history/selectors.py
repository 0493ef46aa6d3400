"""Reads of the listening history."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.identity import get_listener
from apps.accounts.models import Listener
from apps.history.models import HISTORY_LIMIT, HISTORY_WARNING_FROM, HistoryEntry

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
