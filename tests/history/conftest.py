"""Event store fixtures: the same tests run against SQL, montydb and (when set) real MongoDB."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings

from apps.history.eventstore import EventStore, MongoEventStore, SqlEventStore, use_event_store

_monty_client: Any = None


def monty_store() -> MongoEventStore:
    """A MongoDB store on montydb's in-memory engine, in a fresh database.

    montydb configures its memory engine once per process (a second ``MontyClient(":memory:")``
    raises), so one client is shared and each test gets its own database name.
    """
    global _monty_client
    if _monty_client is None:
        from montydb import MontyClient

        _monty_client = MontyClient(":memory:")
    return MongoEventStore(_monty_client[f"test_{uuid.uuid4().hex[:12]}"])


@pytest.fixture(
    params=[
        "sql",
        "montydb",
        pytest.param("mongodb", marks=pytest.mark.mongodb),
    ]
)
def event_store(request: pytest.FixtureRequest, db: None) -> Iterator[EventStore]:
    """Each contract test runs once per implementation."""
    store: Any
    if request.param == "sql":
        store = SqlEventStore()
    elif request.param == "montydb":
        store = monty_store()
    else:
        store = MongoEventStore.from_url(
            settings.MONGODB_URL, f"test_musicrec_{uuid.uuid4().hex[:8]}"
        )
    store.ensure_indexes()
    with use_event_store(store):
        yield store
    if request.param == "mongodb":
        store.database.client.drop_database(store.database.name)


class FlakyStore:
    """A store that fails like an unreachable MongoDB while ``down`` is set."""

    def __init__(self, inner: EventStore) -> None:
        self.inner = inner
        self.name = inner.name
        self.down = False
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            from pymongo.errors import ServerSelectionTimeoutError

            self.calls += 1
            if self.down:
                raise ServerSelectionTimeoutError("mongodb:27017: [Errno 111] Connection refused")
            return attribute(*args, **kwargs)

        return call
