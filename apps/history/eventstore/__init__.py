"""Where listening events and prediction logs are kept: SQL (default) or MongoDB.

Both implementations pass the same contract tests (tests/history/test_eventstore_contract.py).
Writes are idempotent by ``event_id``/``log_id``, so the outbox drain can safely resend a batch
after a crash. Timestamps are kept to the millisecond (what BSON stores), so both stores return
exactly what they were given.

``get_event_store()`` picks MongoDB when ``settings.MONGODB_URL`` is set, else SQL. /healthz
uses ``name`` and ``ping()``; the outbox drain uses ``write_events``; the recommender reads
``iter_events`` and writes ``write_prediction_log``.

The records and the ``EventStore`` protocol live in ``base``, the implementations in ``sql`` and
``mongo``; this module re-exports them and chooses the store.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings

from apps.history.eventstore.base import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Event,
    EventPage,
    EventStore,
    Prediction,
    PredictionLogEntry,
    now_ms,
    to_ms,
)
from apps.history.eventstore.mongo import (
    EVENTS_COLLECTION,
    MONGO_TIMEOUT_MS,
    PREDICTIONS_COLLECTION,
    MongoEventStore,
)
from apps.history.eventstore.sql import SqlEventStore

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "EVENTS_COLLECTION",
    "MAX_PAGE_SIZE",
    "MONGO_TIMEOUT_MS",
    "PREDICTIONS_COLLECTION",
    "Event",
    "EventPage",
    "EventStore",
    "MongoEventStore",
    "Prediction",
    "PredictionLogEntry",
    "SqlEventStore",
    "get_event_store",
    "now_ms",
    "to_ms",
    "use_event_store",
]

logger = logging.getLogger(__name__)

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
