"""The MongoDB event store, through pymongo.

pymongo is imported inside the methods that need it, so only a configured MongoDB loads it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from apps.history.eventstore.base import (
    DEFAULT_PAGE_SIZE,
    Event,
    EventPage,
    PredictionLogEntry,
    page_bounds,
    predictions_from,
    to_ms,
)

EVENTS_COLLECTION = "listening_history"
PREDICTIONS_COLLECTION = "predictions"
MONGO_TIMEOUT_MS = 2000


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
        page, page_size = page_bounds(page, page_size)
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
            predictions=predictions_from(doc.get("predictions", [])),
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
