"""Where listening events and prediction logs are kept (placeholder until the listener issue).

The interface is filled in by the listener work; /healthz only needs ``name`` and ``ping()``.
"""

from __future__ import annotations

from typing import Protocol

from django.db import connection


class EventStore(Protocol):
    name: str

    def ping(self) -> None: ...


class SqlEventStore:
    name = "sql"

    def ping(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")


def get_event_store() -> EventStore:
    return SqlEventStore()
