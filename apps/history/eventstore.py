"""Where listening events and prediction logs are kept: SQL (default) or MongoDB.

Both implementations pass the same contract tests (tests/history/test_eventstore_contract.py).
Writes are idempotent by ``event_id``/``log_id``, so the outbox drain can safely resend a batch
after a crash. Timestamps are kept to the millisecond (what BSON stores), so both stores return
exactly what they were given.

``get_event_store()`` picks MongoDB when ``settings.MONGODB_URL`` is set, else SQL. /healthz
uses ``name`` and ``ping()``; the outbox drain uses ``write_events``; the recommender reads
``iter_events`` and writes ``write_prediction_log``.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

logger = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
EVENTS_COLLECTION = "listening_history"
PREDICTIONS_COLLECTION = "predictions"
MONGO_TIMEOUT_MS = 2000


def now_ms() -> datetime:
    """The current time as an aware UTC datetime, truncated to what BSON can store."""
    return to_ms(timezone.now())


def to_ms(value: datetime) -> datetime:
    value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


@dataclass(frozen=True)
class Event:
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
    def new(cls, **kwargs: Any) -> Event:
        kwargs.setdefault("event_id", str(uuid.uuid4()))
        kwargs.setdefault("timestamp", now_ms())
        return cls(**kwargs)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["timestamp"] = self.timestamp.isoformat()
        return data

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
class PredictionLogEntry:
    """What the recommender predicted for a listener, and in which context."""

    log_id: str
    listener: int
    timestamp: datetime
    context: dict[str, Any]
    predictions: list[Prediction]

    @classmethod
    def new(cls, **kwargs: Any) -> PredictionLogEntry:
        kwargs.setdefault("log_id", str(uuid.uuid4()))
        kwargs.setdefault("timestamp", now_ms())
        return cls(**kwargs)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["timestamp"] = self.timestamp.isoformat()
        return data


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


def _page_bounds(page: int, page_size: int) -> tuple[int, int]:
    page = max(1, page)
    page_size = min(max(1, page_size), MAX_PAGE_SIZE)
    return page, page_size


def _predictions_from(raw: list[dict[str, Any]]) -> list[Prediction]:
    return [Prediction(**item) for item in raw]


# --- SQL ----------------------------------------------------------------------------------------


class SqlEventStore:
    """Events in the relational database (tables ``history_listeningevent``/``predictionlog``)."""

    name = "sql"

    def ping(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    def ensure_indexes(self) -> None:
        """Migrations create the indexes."""

    def write_events(self, events: Sequence[Event]) -> int:
        from apps.history.models import ListeningEvent

        ids = {uuid.UUID(event.event_id) for event in events}
        existing = set(
            ListeningEvent.objects.filter(event_id__in=ids).values_list("event_id", flat=True)
        )
        new = [
            ListeningEvent(
                event_id=uuid.UUID(event.event_id),
                listener_id=event.listener,
                track_id=event.track,
                type=event.type,
                timestamp=event.timestamp,
                was_recommended=event.was_recommended,
                recommendation_confidence=event.recommendation_confidence,
                recommendation_id=event.recommendation_id or "",
                details=event.details,
            )
            for event in {e.event_id: e for e in events}.values()
            if uuid.UUID(event.event_id) not in existing
        ]
        # ignore_conflicts: a concurrent writer of the same event is not an error, it is a no-op.
        ListeningEvent.objects.bulk_create(new, ignore_conflicts=True)
        return len(new)

    def events_for(
        self, listener_id: int, *, page: int = 1, page_size: int = DEFAULT_PAGE_SIZE
    ) -> EventPage:
        from apps.history.models import ListeningEvent

        page, page_size = _page_bounds(page, page_size)
        rows = ListeningEvent.objects.filter(listener_id=listener_id)
        start = (page - 1) * page_size
        chunk = rows.order_by("-timestamp", "-event_id")[start : start + page_size]
        return EventPage(
            events=[self._event(row) for row in chunk],
            total=rows.count(),
            page=page,
            page_size=page_size,
        )

    def iter_events(
        self, *, since: datetime | None = None, types: Sequence[str] | None = None
    ) -> Iterator[Event]:
        from apps.history.models import ListeningEvent

        rows = ListeningEvent.objects.all()
        if since is not None:
            rows = rows.filter(timestamp__gte=since)
        if types is not None:
            rows = rows.filter(type__in=list(types))
        for row in rows.order_by("timestamp", "event_id").iterator(chunk_size=2000):
            yield self._event(row)

    @transaction.atomic
    def delete_listener(self, listener_id: int) -> int:
        from apps.history.models import ListeningEvent, PredictionLog

        events, _ = ListeningEvent.objects.filter(listener_id=listener_id).delete()
        logs, _ = PredictionLog.objects.filter(listener_id=listener_id).delete()
        return events + logs

    def write_prediction_log(self, log: PredictionLogEntry) -> str:
        from apps.history.models import PredictionLog

        PredictionLog.objects.get_or_create(
            log_id=uuid.UUID(log.log_id),
            defaults={
                "listener_id": log.listener,
                "timestamp": log.timestamp,
                "context": log.context,
                "predictions": [asdict(p) for p in log.predictions],
            },
        )
        return log.log_id

    @transaction.atomic
    def mark_prediction_selected(self, *, log_id: str, track: int) -> bool:
        from apps.history.models import PredictionLog

        try:
            log = PredictionLog.objects.select_for_update().get(log_id=uuid.UUID(log_id))
        except (PredictionLog.DoesNotExist, ValueError):
            return False
        found = False
        for prediction in log.predictions:
            if prediction.get("track") == track:
                prediction["was_selected"] = found = True
        if found:
            PredictionLog.objects.filter(pk=log.pk).update(predictions=log.predictions)
        return found

    def prediction_logs_for(self, listener_id: int) -> list[PredictionLogEntry]:
        from apps.history.models import PredictionLog

        rows = PredictionLog.objects.filter(listener_id=listener_id).order_by("timestamp", "log_id")
        return [self._log(row) for row in rows]

    def iter_prediction_logs(
        self, *, since: datetime | None = None
    ) -> Iterator[PredictionLogEntry]:
        from apps.history.models import PredictionLog

        rows = PredictionLog.objects.order_by("timestamp", "log_id")
        if since is not None:
            rows = rows.filter(timestamp__gte=since)
        for row in rows.iterator(chunk_size=2_000):
            yield self._log(row)

    @staticmethod
    def _log(row: Any) -> PredictionLogEntry:
        return PredictionLogEntry(
            log_id=str(row.log_id),
            listener=row.listener_id,
            timestamp=to_ms(row.timestamp),
            context=row.context,
            predictions=_predictions_from(row.predictions),
        )

    def export_listener(self, listener_id: int) -> dict[str, list[dict[str, Any]]]:
        from apps.history.models import ListeningEvent

        rows = ListeningEvent.objects.filter(listener_id=listener_id).order_by(
            "timestamp", "event_id"
        )
        return {
            "events": [self._event(row).to_json() for row in rows],
            "predictions": [log.to_json() for log in self.prediction_logs_for(listener_id)],
        }

    @staticmethod
    def _event(row: Any) -> Event:
        return Event(
            event_id=str(row.event_id),
            listener=row.listener_id,
            type=row.type,
            timestamp=to_ms(row.timestamp),
            track=row.track_id,
            was_recommended=row.was_recommended,
            recommendation_confidence=row.recommendation_confidence,
            recommendation_id=row.recommendation_id or None,
            details=row.details,
        )


# --- MongoDB ------------------------------------------------------------------------------------


def _bson_time(value: datetime) -> datetime:
    """Naive UTC: what BSON stores, and what montydb can compare (it rejects aware values)."""
    return to_ms(value).replace(tzinfo=None)


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class MongoEventStore:
    """Events in MongoDB: collections ``listening_history`` and ``predictions``.

    Only the part of PyMongo's API that montydb also implements is used (``update_one`` with
    ``$setOnInsert`` upserts rather than ``bulk_write``; ``find_one`` as the ping), so the
    contract tests run here against montydb and in CI against a real server. ``_id`` is the
    event id, which makes duplicate writes impossible even where indexes are not supported.
    """

    name = "mongodb"

    def __init__(self, database: Any) -> None:
        self.database = database
        self.events = database[EVENTS_COLLECTION]
        self.predictions = database[PREDICTIONS_COLLECTION]
        self._indexes_ready = False

    @classmethod
    def from_url(cls, url: str, db_name: str) -> MongoEventStore:
        from pymongo import MongoClient

        client: Any = MongoClient(
            url,
            serverSelectionTimeoutMS=MONGO_TIMEOUT_MS,
            connectTimeoutMS=MONGO_TIMEOUT_MS,
            socketTimeoutMS=5 * MONGO_TIMEOUT_MS,
            appname="musicrec",
        )
        return cls(client[db_name])

    def ping(self) -> None:
        self.events.find_one({"_id": "__ping__"})

    def ensure_indexes(self) -> None:
        """Create the indexes (idempotent: MongoDB ignores an index that already exists)."""
        from pymongo import ASCENDING, DESCENDING

        self.events.create_index([("event_id", ASCENDING)], unique=True, name="event_id_unique")
        self.events.create_index(
            [("listener", ASCENDING), ("timestamp", DESCENDING)], name="listener_time"
        )
        self.events.create_index([("type", ASCENDING), ("timestamp", ASCENDING)], name="type_time")
        self.events.create_index([("timestamp", ASCENDING)], name="time")
        self.predictions.create_index(
            [("listener", ASCENDING), ("timestamp", DESCENDING)], name="listener_time"
        )
        self._indexes_ready = True

    def _ready(self) -> None:
        if not self._indexes_ready:
            self.ensure_indexes()

    def write_events(self, events: Sequence[Event]) -> int:
        self._ready()
        written = 0
        for event in events:
            document = asdict(event)
            document["timestamp"] = _bson_time(event.timestamp)
            result = self.events.update_one(
                {"_id": event.event_id}, {"$setOnInsert": document}, upsert=True
            )
            written += int(result.upserted_id is not None)
        return written

    def events_for(
        self, listener_id: int, *, page: int = 1, page_size: int = DEFAULT_PAGE_SIZE
    ) -> EventPage:
        page, page_size = _page_bounds(page, page_size)
        query = {"listener": listener_id}
        cursor = (
            self.events.find(query)
            .sort([("timestamp", -1), ("_id", -1)])
            .skip((page - 1) * page_size)
            .limit(page_size)
        )
        return EventPage(
            events=[self._event(doc) for doc in cursor],
            total=self.events.count_documents(query),
            page=page,
            page_size=page_size,
        )

    def iter_events(
        self, *, since: datetime | None = None, types: Sequence[str] | None = None
    ) -> Iterator[Event]:
        query: dict[str, Any] = {}
        if since is not None:
            query["timestamp"] = {"$gte": _bson_time(since)}
        if types is not None:
            query["type"] = {"$in": list(types)}
        for doc in self.events.find(query).sort([("timestamp", 1), ("_id", 1)]):
            yield self._event(doc)

    def delete_listener(self, listener_id: int) -> int:
        events = self.events.delete_many({"listener": listener_id}).deleted_count
        logs = self.predictions.delete_many({"listener": listener_id}).deleted_count
        return int(events) + int(logs)

    def write_prediction_log(self, log: PredictionLogEntry) -> str:
        self._ready()
        document = asdict(log)
        document["timestamp"] = _bson_time(log.timestamp)
        self.predictions.update_one({"_id": log.log_id}, {"$setOnInsert": document}, upsert=True)
        return log.log_id

    def mark_prediction_selected(self, *, log_id: str, track: int) -> bool:
        result = self.predictions.update_one(
            {"_id": log_id, "predictions.track": track},
            {"$set": {"predictions.$.was_selected": True}},
        )
        return bool(result.matched_count)

    def prediction_logs_for(self, listener_id: int) -> list[PredictionLogEntry]:
        cursor = self.predictions.find({"listener": listener_id}).sort(
            [("timestamp", 1), ("_id", 1)]
        )
        return [self._log(doc) for doc in cursor]

    def iter_prediction_logs(
        self, *, since: datetime | None = None
    ) -> Iterator[PredictionLogEntry]:
        query = {} if since is None else {"timestamp": {"$gte": _bson_time(since)}}
        for doc in self.predictions.find(query).sort([("timestamp", 1), ("_id", 1)]):
            yield self._log(doc)

    @staticmethod
    def _log(doc: dict[str, Any]) -> PredictionLogEntry:
        return PredictionLogEntry(
            log_id=doc["log_id"],
            listener=doc["listener"],
            timestamp=_aware(doc["timestamp"]),
            context=doc.get("context", {}),
            predictions=_predictions_from(doc.get("predictions", [])),
        )

    def export_listener(self, listener_id: int) -> dict[str, list[dict[str, Any]]]:
        events = self.events.find({"listener": listener_id}).sort([("timestamp", 1), ("_id", 1)])
        return {
            "events": [self._event(doc).to_json() for doc in events],
            "predictions": [log.to_json() for log in self.prediction_logs_for(listener_id)],
        }

    @staticmethod
    def _event(doc: dict[str, Any]) -> Event:
        return Event(
            event_id=doc["event_id"],
            listener=doc["listener"],
            type=doc["type"],
            timestamp=_aware(doc["timestamp"]),
            track=doc.get("track"),
            was_recommended=doc.get("was_recommended", False),
            recommendation_confidence=doc.get("recommendation_confidence"),
            recommendation_id=doc.get("recommendation_id"),
            details=doc.get("details") or {},
        )


# --- Choosing the store ---------------------------------------------------------------------------

_lock = threading.Lock()
_cached: tuple[tuple[str, str], EventStore] | None = None
_override: EventStore | None = None


def get_event_store() -> EventStore:
    """The configured store, created once per process (MongoDB clients pool connections)."""
    global _cached
    if _override is not None:
        return _override
    key = (settings.MONGODB_URL, settings.MONGODB_DB)
    cached = _cached
    if cached is not None and cached[0] == key:
        return cached[1]
    with _lock:
        store: EventStore
        if settings.MONGODB_URL:
            store = MongoEventStore.from_url(settings.MONGODB_URL, settings.MONGODB_DB)
            _ensure_indexes_at_start(store)
        else:
            store = SqlEventStore()
        _cached = (key, store)
        return store


def _ensure_indexes_at_start(store: EventStore) -> None:
    from pymongo.errors import PyMongoError

    try:
        store.ensure_indexes()
    except PyMongoError:
        # MongoDB down at start-up: the first successful write creates them instead.
        logger.warning("event store indexes not created yet", exc_info=True)


@contextmanager
def use_event_store(store: EventStore) -> Iterator[EventStore]:
    """Route every ``get_event_store()`` call to ``store`` for a while (tests, scripts)."""
    global _override
    previous, _override = _override, store
    try:
        yield store
    finally:
        _override = previous
