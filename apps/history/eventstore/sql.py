"""The SQL event store: events and prediction logs in the relational database, via the ORM."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from apps.history.eventstore.base import (
    DEFAULT_PAGE_SIZE,
    Event,
    EventPage,
    PredictionLogEntry,
    page_bounds,
    predictions_from,
    to_ms,
)


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

        page, page_size = page_bounds(page, page_size)
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
            predictions=predictions_from(row.predictions),
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
