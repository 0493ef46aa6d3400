"""Background work of the history app: draining the event outbox into the event store."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from pymongo.errors import PyMongoError

from apps.history.services import outbox_drain, outbox_purge_sent

logger = logging.getLogger(__name__)

# The store being unreachable is worth waiting for; anything else is a bug to see at once.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (PyMongoError, ConnectionError, TimeoutError)
DRAIN_MAX_RETRIES = 12
DRAIN_RETRY_MAX_SECONDS = 600


@shared_task(
    bind=True,
    name="history.drain_outbox",
    max_retries=DRAIN_MAX_RETRIES,
    time_limit=120,
    soft_time_limit=100,
    ignore_result=True,
)
def drain_outbox(self: Any) -> int:
    """Send pending events to the event store. Safe to run twice, or in several workers."""
    try:
        result = outbox_drain()
    except TRANSIENT_ERRORS as exc:
        if self.request.is_eager:
            # Inline (no broker): the rows wait in the outbox for the next drain.
            logger.warning("event store unavailable; events stay queued", exc_info=True)
            return 0
        countdown = min(2**self.request.retries * 5, DRAIN_RETRY_MAX_SECONDS)
        raise self.retry(exc=exc, countdown=countdown) from exc
    return result.written


@shared_task(name="history.purge_outbox", time_limit=600, soft_time_limit=540, ignore_result=True)
def purge_outbox() -> int:
    """Delete outbox rows sent more than a week ago (the event store has them)."""
    deleted = outbox_purge_sent()
    if deleted:
        logger.info("outbox purge", extra={"deleted": deleted})
    return deleted


@shared_task(
    bind=True,
    name="history.erase_listener_events",
    max_retries=DRAIN_MAX_RETRIES,
    time_limit=120,
    soft_time_limit=100,
    ignore_result=True,
)
def erase_listener_events(self: Any, listener_id: int) -> int:
    """Remove a deleted listener's events and prediction logs from the event store."""
    from apps.history.eventstore import get_event_store

    try:
        return get_event_store().delete_listener(listener_id)
    except TRANSIENT_ERRORS as exc:
        if self.request.is_eager:
            logger.error("could not erase events; retry by hand", extra={"listener": listener_id})
            return 0
        countdown = min(2**self.request.retries * 5, DRAIN_RETRY_MAX_SECONDS)
        raise self.retry(exc=exc, countdown=countdown) from exc
