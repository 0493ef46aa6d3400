"""Serving recommendations: cached per listener, logged when shown.

The cache key holds the model version and the listener's history and demographics versions, so
a new model or any change by the listener makes old entries unreachable (and the history
services also delete them). A cached answer is still filtered against the current history, so
a song already in the history is never recommended.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from django.core.cache import cache

from apps.accounts.models import Listener
from apps.catalog.models import Track
from apps.history.eventstore import Prediction, PredictionLogEntry, get_event_store
from apps.history.models import HistoryEntry
from apps.recommend.cache import listener_prefix
from apps.recommend.engine.dataset import Context
from apps.recommend.registry import get_engine

logger = logging.getLogger(__name__)

RECOMMENDATION_CACHE_SECONDS = 300
DEFAULT_COUNT = 10
MAX_COUNT = 100
# The ensemble is asked for this many more than shown, so the history filter never runs dry.
CANDIDATE_SLACK = 10


@dataclass(frozen=True)
class RecommendedTrack:
    track_id: int
    score: float
    confidence: float
    reason: str
    shares: dict[str, float] = field(default_factory=dict)


@dataclass
class RecommendationList:
    model_version: str
    items: list[RecommendedTrack]
    # The prediction log this list was recorded in, once shown (the Add button sends it back).
    recommendation_id: str = ""


def _cache_key(listener: Listener, model_version: str, n: int) -> str:
    return (
        f"{listener_prefix(listener.id)}:{model_version}:"
        f"h{listener.history_version}:d{listener.demographics_version}:n{n}"
    )


def _history_track_ids(listener: Listener) -> list[int]:
    return list(
        HistoryEntry.objects.filter(listener=listener)
        .order_by("position")
        .values_list("track_id", flat=True)
    )


def recommendations_for(
    *, listener: Listener, n: int = DEFAULT_COUNT, history: list[int] | None = None
) -> RecommendationList:
    """The top ``n`` tracks for ``listener`` (cached; never a track already in the history)."""
    n = max(1, min(n, MAX_COUNT))
    engine = get_engine()
    history = _history_track_ids(listener) if history is None else history
    in_history = set(history)
    key = _cache_key(listener, engine.version, n)
    cached = _cache_get(key)
    if cached is not None:
        items = [RecommendedTrack(**item) for item in cached]
        return RecommendationList(
            model_version=engine.version,
            items=[item for item in items if item.track_id not in in_history],
        )
    context = engine.context(
        history=history,
        age=listener.age,
        gender=listener.gender,
        country=str(listener.country or ""),
        occupation=listener.occupation,
    )
    items = [
        item
        for item in engine.recommend(context, n + CANDIDATE_SLACK)
        if item.track_id not in in_history
    ][:n]
    _cache_set(key, [asdict(item) for item in items])
    return RecommendationList(model_version=engine.version, items=items)


def recommendations_for_contexts(
    *, contexts: list[dict[str, Any]], n: int = DEFAULT_COUNT
) -> list[list[RecommendedTrack]]:
    """Score several what-if contexts at once (the batch API): no cache, no log."""
    engine = get_engine()
    built: list[Context] = [engine.context(**context) for context in contexts]
    results = engine.recommend_many(built, n + CANDIDATE_SLACK)
    out = []
    for context_input, items in zip(contexts, results, strict=True):
        exclude = set(context_input.get("history") or [])
        out.append([item for item in items if item.track_id not in exclude][:n])
    return out


def similar_tracks(*, track_id: int, n: int = DEFAULT_COUNT) -> list[RecommendedTrack]:
    """Tracks like ``track_id`` ("More like this"); empty for a track the model cannot place."""
    return get_engine().similar(track_id, max(1, min(n, MAX_COUNT)))


def prediction_log_shown(
    *, listener: Listener, recommendations: RecommendationList, shown: int, history: list[int]
) -> str:
    """Record what was shown to whom, in which context; returns the log id ("" if not stored).

    Best effort: an event store that is down must not break the page that shows the card.
    """
    if not recommendations.items:
        return ""
    log = PredictionLogEntry.new(
        listener=listener.id,
        context={
            "history_size": len(history),
            "recent_tracks": history[-5:],
            "demographics": {
                "age": listener.age,
                "gender": listener.gender,
                "country": str(listener.country or ""),
                "occupation": listener.occupation,
            },
            "model_version": recommendations.model_version,
        },
        predictions=[
            Prediction(
                track=item.track_id,
                confidence=item.confidence,
                predictor_weights=item.shares,
                was_shown=index < shown,
            )
            for index, item in enumerate(recommendations.items)
        ],
    )
    try:
        get_event_store().write_prediction_log(log)
    except Exception:
        logger.warning("prediction log not stored", exc_info=True)
        return ""
    recommendations.recommendation_id = log.log_id
    return log.log_id


def tracks_by_id(track_ids: list[int]) -> dict[int, Track]:
    """The displayed tracks with their artist, album and top genre in one query."""
    tracks = Track.objects.filter(id__in=track_ids).select_related("artist", "album", "genre_top")
    return {track.id: track for track in tracks}


def _cache_get(key: str) -> list[dict[str, Any]] | None:
    try:
        value: list[dict[str, Any]] | None = cache.get(key)
    except Exception:
        logger.warning("recommendation cache unavailable", exc_info=True)
        return None
    return value


def _cache_set(key: str, value: list[dict[str, Any]]) -> None:
    try:
        cache.set(key, value, timeout=RECOMMENDATION_CACHE_SECONDS)
    except Exception:
        logger.warning("recommendation cache unavailable", exc_info=True)
