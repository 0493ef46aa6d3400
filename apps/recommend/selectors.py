"""Reads the recommendation pages need: recommendations joined with the tracks to display."""

from __future__ import annotations

from dataclasses import dataclass

from apps.accounts.models import Listener
from apps.catalog.models import Track
from apps.history.models import HistoryEntry
from apps.recommend.services import (
    RecommendedTrack,
    prediction_log_shown,
    recommendations_for,
    similar_tracks,
    tracks_by_id,
)


@dataclass(frozen=True)
class ShownRecommendation:
    track: Track
    confidence: float
    percent: int
    reason: str
    shares: dict[str, float]
    recommendation_id: str


def _display(items: list[RecommendedTrack], recommendation_id: str) -> list[ShownRecommendation]:
    tracks = tracks_by_id([item.track_id for item in items])
    return [
        ShownRecommendation(
            track=tracks[item.track_id],
            confidence=item.confidence,
            percent=round(item.confidence * 100),
            reason=item.reason,
            shares=item.shares,
            recommendation_id=recommendation_id,
        )
        for item in items
        if item.track_id in tracks
    ]


def shown_recommendations(*, listener: Listener, n: int) -> list[ShownRecommendation]:
    """The top ``n`` for a page, logged as shown (so a later Add marks them selected)."""
    history = list(
        HistoryEntry.objects.filter(listener=listener)
        .order_by("position")
        .values_list("track_id", flat=True)
    )
    recommendations = recommendations_for(listener=listener, n=n, history=history)
    log_id = prediction_log_shown(
        listener=listener, recommendations=recommendations, shown=n, history=history
    )
    return _display(recommendations.items, log_id)


def top_recommendation(*, listener: Listener | None) -> ShownRecommendation | None:
    """The one card above the search results (None for a visitor without demographics)."""
    if listener is None or not listener.has_demographics:
        return None
    shown = shown_recommendations(listener=listener, n=1)
    return shown[0] if shown else None


def similar_for_display(*, track_id: int, n: int = 6) -> list[ShownRecommendation]:
    return _display(similar_tracks(track_id=track_id, n=n), "")
