"""Cached recommendations per listener (the recommender work extends this module).

Keys start with ``listener_prefix(listener_id)`` and include the listener's
``demographics_version``/``history_version``, so a bumped version alone makes old entries
unreachable; ``invalidate_listener`` also deletes them where the backend can (Redis).
"""

from __future__ import annotations

import logging

from django.core.cache import cache

logger = logging.getLogger(__name__)


def listener_prefix(listener_id: int) -> str:
    return f"recommend:listener:{listener_id}"


def invalidate_listener(listener_id: int) -> None:
    """Drop every cached recommendation of this listener. Never raises: a cache is optional."""
    prefix = listener_prefix(listener_id)
    try:
        delete_pattern = getattr(cache, "delete_pattern", None)
        if callable(delete_pattern):  # django-redis
            delete_pattern(f"{prefix}:*")
        cache.delete(prefix)
    except Exception:
        logger.warning("could not drop cached recommendations", exc_info=True)
