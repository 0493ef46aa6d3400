"""Writes to listener profiles: create, change demographics, rotate the token, export, delete."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.accounts.identity import token_generate, token_hash
from apps.accounts.models import Listener
from apps.accounts.rules import DEMOGRAPHIC_FIELDS

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Demographics:
    age: int
    gender: str
    country: str
    occupation: str

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in DEMOGRAPHIC_FIELDS}


def _invalidate_recommendations(listener_id: int) -> None:
    from apps.recommend.cache import invalidate_listener

    invalidate_listener(listener_id)


@transaction.atomic
def listener_create(*, demographics: Demographics | None = None) -> Listener:
    listener = Listener.objects.create()
    if demographics is not None:
        listener = demographics_update(listener=listener, demographics=demographics)
    return listener


@transaction.atomic
def demographics_update(*, listener: Listener, demographics: Demographics) -> Listener:
    """Set the listener's demographics; record the change and drop cached recommendations."""
    from apps.history.services import demographics_event_add

    locked = Listener.objects.select_for_update().get(pk=listener.pk)
    previous = {name: getattr(locked, name) for name in DEMOGRAPHIC_FIELDS}
    previous["country"] = str(locked.country)
    new = demographics.as_dict()
    if locked.has_demographics and previous == new:
        return locked  # nothing changed: no event, the cache stays valid
    Listener.objects.filter(pk=locked.pk).update(
        **new,
        demographics_completed_at=locked.demographics_completed_at or timezone.now(),
        demographics_version=F("demographics_version") + 1,
    )
    demographics_event_add(listener_id=locked.pk, details=new)
    transaction.on_commit(partial(_invalidate_recommendations, locked.pk), robust=True)
    locked.refresh_from_db()
    return locked


@transaction.atomic
def api_token_rotate(*, listener: Listener) -> str:
    """A new API token for the listener (the old one stops working). Returned once, not stored."""
    token = token_generate()
    Listener.objects.filter(pk=listener.pk).update(
        api_token_hash=token_hash(token), api_token_created_at=timezone.now()
    )
    return token


def listener_delete(*, listener: Listener) -> None:
    """Delete the profile, its history and outbox rows, then its events in the event store."""
    from apps.history.tasks import erase_listener_events

    listener_id = listener.pk
    with transaction.atomic():
        # History entries and pending outbox rows go with the listener (on_delete=CASCADE).
        Listener.objects.filter(pk=listener_id).delete()
        transaction.on_commit(partial(_invalidate_recommendations, listener_id), robust=True)
        transaction.on_commit(
            partial(_erase_events_enqueue, erase_listener_events, listener_id), robust=True
        )


def _erase_events_enqueue(task: Any, listener_id: int) -> None:
    try:
        task.delay(listener_id)
    except Exception:
        logger.error(
            "could not queue erasing events", extra={"listener": listener_id}, exc_info=True
        )


def listener_export(*, listener: Listener) -> dict[str, Any]:
    """Everything kept about the listener, as JSON-ready data ("Download my data")."""
    from apps.history.eventstore import get_event_store
    from apps.history.models import OutboxEvent, OutboxState
    from apps.history.selectors import history_entries

    stored = get_event_store().export_listener(listener.pk)
    seen = {event["event_id"] for event in stored["events"]}
    # Events still waiting in the outbox are part of the data too.
    pending = [
        row.payload
        for row in OutboxEvent.objects.filter(listener=listener).exclude(state=OutboxState.SENT)
        if row.payload["event_id"] not in seen
    ]
    return {
        "profile": {
            "id": str(listener.public_id),
            "created_at": listener.created_at.isoformat(),
            "age": listener.age,
            "gender": listener.gender,
            "country": str(listener.country),
            "occupation": listener.occupation,
            "demographics_completed_at": (
                listener.demographics_completed_at.isoformat()
                if listener.demographics_completed_at
                else None
            ),
            "has_api_token": bool(listener.api_token_hash),
        },
        "history": [
            {
                "position": entry.position,
                "track_id": entry.track_id,
                "title": entry.track.title,
                "artist": entry.track.artist.name,
                "added_at": entry.added_at.isoformat(),
            }
            for entry in history_entries(listener=listener)
        ],
        "events": stored["events"] + pending,
        "predictions": stored["predictions"],
    }
