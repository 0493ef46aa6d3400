"""The event store's shared vocabulary: the records, the ``EventStore`` protocol and helpers.

Both implementations (``sql``, ``mongo``) build on these, so they return the same types and
apply the same paging limits and millisecond precision.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol, Self

from django.utils import timezone

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def now_ms() -> datetime:
    """The current time as an aware UTC datetime, truncated to what BSON can store."""
    return to_ms(timezone.now())


def to_ms(value: datetime) -> datetime:
    value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


class _Record:
    """A stored record: a generated id (its field is ``ID_FIELD``) and a millisecond timestamp.

    ``to_json`` writes the timestamp as ISO 8601 (the outbox keeps events as JSON, and a
    listener's data export holds both kinds).
    """

    ID_FIELD: ClassVar[str]
    timestamp: datetime

    @classmethod
    def new(cls, **kwargs: Any) -> Self:
        kwargs.setdefault(cls.ID_FIELD, str(uuid.uuid4()))
        kwargs.setdefault("timestamp", now_ms())
        return cls(**kwargs)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)  # type: ignore[call-overload]  # only dataclasses subclass _Record
        data["timestamp"] = self.timestamp.isoformat()
        return data


@dataclass(frozen=True)
class Event(_Record):
    ID_FIELD: ClassVar[str] = "event_id"

    event_id: str
    listener: int
    type: str
    timestamp: datetime
    track: int | None = None
    was_recommended: bool = False
    recommendation_confidence: float | None = None
    recommendation_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Event:
        values = dict(data)
        values["timestamp"] = to_ms(datetime.fromisoformat(values["timestamp"]))
        return cls(**values)


@dataclass(frozen=True)
class Prediction:
    track: int
    confidence: float
    predictor_weights: dict[str, float] = field(default_factory=dict)
    was_shown: bool = False
    was_selected: bool = False


@dataclass(frozen=True)
class PredictionLogEntry(_Record):
    """What the recommender predicted for a listener, and in which context."""

    ID_FIELD: ClassVar[str] = "log_id"

    log_id: str
    listener: int
    timestamp: datetime
    context: dict[str, Any]
    predictions: list[Prediction]


@dataclass(frozen=True)
class EventPage:
    events: list[Event]
    total: int
    page: int
    page_size: int

    @property
    def has_next(self) -> bool:
        return self.page * self.page_size < self.total


class EventStore(Protocol):
    name: str

    def ping(self) -> None: ...

    def ensure_indexes(self) -> None: ...

    def write_events(self, events: Sequence[Event]) -> int:
        """Store events not stored yet (by ``event_id``); return how many were new."""
        ...

    def events_for(
        self, listener_id: int, *, page: int = 1, page_size: int = DEFAULT_PAGE_SIZE
    ) -> EventPage:
        """One listener's events, newest first."""
        ...

    def iter_events(
        self, *, since: datetime | None = None, types: Sequence[str] | None = None
    ) -> Iterator[Event]:
        """All events (``timestamp >= since``), oldest first: the recommender trains on these."""
        ...

    def delete_listener(self, listener_id: int) -> int:
        """Erase a listener's events and prediction logs; return how many records went."""
        ...

    def write_prediction_log(self, log: PredictionLogEntry) -> str: ...

    def mark_prediction_selected(self, *, log_id: str, track: int) -> bool:
        """Flag ``track`` in prediction log ``log_id`` as selected; False if not found."""
        ...

    def prediction_logs_for(self, listener_id: int) -> list[PredictionLogEntry]: ...

    def iter_prediction_logs(
        self, *, since: datetime | None = None
    ) -> Iterator[PredictionLogEntry]:
        """All prediction logs (``timestamp >= since``), oldest first (for online quality)."""
        ...

    def export_listener(self, listener_id: int) -> dict[str, list[dict[str, Any]]]:
        """Everything the store keeps about a listener, as JSON-ready dicts."""
        ...


def page_bounds(page: int, page_size: int) -> tuple[int, int]:
    page = max(1, page)
    page_size = min(max(1, page_size), MAX_PAGE_SIZE)
    return page, page_size


def predictions_from(raw: list[dict[str, Any]]) -> list[Prediction]:
    return [Prediction(**item) for item in raw]
