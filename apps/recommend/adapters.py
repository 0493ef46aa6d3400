"""Build the engine's :class:`Dataset` from our database and event store.

The engine knows positions, not ids: this module is where FMA track ids and listener ids become
positions (and back). Interactions are what listeners did, weighted by how much it says about
taste: a song in the history counts fully, a like more, a play a little; skips and removals
count nothing (a removed song is no longer in the history).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from apps.accounts.models import Listener
from apps.catalog.models import Track
from apps.history.eventstore import Event, get_event_store
from apps.history.models import EventType, HistoryEntry
from apps.recommend.engine.bundle import FORMAT_VERSION as BUNDLE_FORMAT_VERSION
from apps.recommend.engine.dataset import (
    AUDIO_FEATURES,
    Dataset,
    ListenerFeatures,
    TrackFeatures,
)

logger = logging.getLogger(__name__)

#: How much one event says about a listener's taste (summed per listener and track).
EVENT_WEIGHTS: dict[str, float] = {
    EventType.ADD: 1.0,
    EventType.LIKE: 2.0,
    EventType.PLAY: 0.5,
}
# FMA's favourites and interest are rarer signals than listens: scale them onto listens.
PRIOR_FAVORITE_WEIGHT = 20.0
PRIOR_INTEREST_WEIGHT = 0.1


@dataclass
class Catalog:
    """Track ids with their content features, in position order, plus display names."""

    track_ids: np.ndarray
    features: TrackFeatures
    titles: list[str]
    artist_names: list[str]


def load_catalog() -> Catalog:
    """Every track with the features the predictors use (one pass, no N+1)."""
    rows = list(
        Track.objects.order_by("id").values_list(
            "id",
            "title",
            "artist_id",
            "artist__name",
            "album_id",
            "genre_top_id",
            "tags",
            "year",
            "listens",
            "favorites",
            "interest",
            *AUDIO_FEATURES,
        )
    )
    n = len(rows)
    features = TrackFeatures.empty(n)
    track_ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=n)
    position = {int(track_id): i for i, track_id in enumerate(track_ids)}
    genre_lists: list[list[int]] = [[] for _ in range(n)]
    through = Track.genres.through.objects.values_list("track_id", "genre_id")
    for track_id, genre_id in through.iterator(chunk_size=20_000):
        pos = position.get(track_id)
        if pos is not None:
            genre_lists[pos].append(int(genre_id))
    artist_index: dict[int, int] = {}
    album_index: dict[int, int] = {}
    titles: list[str] = []
    artist_names: list[str] = []
    n_audio = len(AUDIO_FEATURES)
    for i, row in enumerate(rows):
        _, title, artist_id, artist_name, album_id, genre_top, tags, year = row[:8]
        listens, favorites, interest = row[8:11]
        features.artist[i] = artist_index.setdefault(artist_id, len(artist_index))
        if album_id is not None:
            features.album[i] = album_index.setdefault(album_id, len(album_index))
        genres = genre_lists[i]
        if genre_top is not None and genre_top not in genres:
            genres.insert(0, int(genre_top))
        features.genres[i] = genres
        features.tags[i] = [str(tag) for tag in (tags or [])]
        features.year[i] = int(year or 0)
        features.popularity[i] = (
            listens + PRIOR_FAVORITE_WEIGHT * favorites + PRIOR_INTEREST_WEIGHT * interest
        )
        audio = row[11 : 11 + n_audio]
        features.audio[i] = [np.nan if value is None else value for value in audio]
        titles.append(title)
        artist_names.append(artist_name)
    features.artist_names = artist_names
    return Catalog(track_ids=track_ids, features=features, titles=titles, artist_names=artist_names)


def _listener_features(listeners: list[Listener]) -> ListenerFeatures:
    features = ListenerFeatures.empty(len(listeners))
    for i, listener in enumerate(listeners):
        features.age[i] = np.nan if listener.age is None else float(listener.age)
        features.gender[i] = listener.gender or ""
        features.country[i] = str(listener.country or "")
        features.occupation[i] = listener.occupation or ""
    return features


def build_dataset(catalog: Catalog) -> Dataset:
    """Interactions of every listener with demographics, from history and the event store."""
    listeners = list(
        Listener.objects.filter(demographics_completed_at__isnull=False).order_by("id")
    )
    listener_position = {listener.id: i for i, listener in enumerate(listeners)}
    track_position = {int(track_id): i for i, track_id in enumerate(catalog.track_ids)}
    weights: dict[tuple[int, int], float] = {}
    times: dict[tuple[int, int], float] = {}

    def record(listener_id: int, track_id: int | None, weight: float, when: float) -> None:
        user = listener_position.get(listener_id)
        item = track_position.get(track_id) if track_id is not None else None
        if user is None or item is None:
            return
        key = (user, item)
        weights[key] = weights.get(key, 0.0) + weight
        times[key] = max(times.get(key, 0.0), when)

    history = HistoryEntry.objects.values_list("listener_id", "track_id", "added_at")
    for listener_id, track_id, added_at in history.iterator(chunk_size=20_000):
        record(listener_id, track_id, EVENT_WEIGHTS[EventType.ADD], added_at.timestamp())
    for event in _taste_events():
        record(event.listener, event.track, EVENT_WEIGHTS[event.type], event.timestamp.timestamp())

    keys = list(weights)
    user = np.fromiter((k[0] for k in keys), dtype=np.int64, count=len(keys))
    item = np.fromiter((k[1] for k in keys), dtype=np.int64, count=len(keys))
    return Dataset(
        listener_ids=np.array([listener.id for listener in listeners], dtype=np.int64),
        track_ids=catalog.track_ids,
        user=user,
        item=item,
        weight=np.fromiter((weights[k] for k in keys), dtype=np.float32, count=len(keys)),
        timestamp=np.fromiter((times[k] for k in keys), dtype=np.float64, count=len(keys)),
        listeners=_listener_features(listeners),
        tracks=catalog.features,
    )


def _taste_events() -> Iterable[Event]:
    """Likes and plays from the event store; an unreachable store means "history only"."""
    store = get_event_store()
    try:
        yield from store.iter_events(types=[EventType.LIKE, EventType.PLAY])
    except Exception:
        logger.warning("event store unreachable: training on history only", exc_info=True)


def dataset_fingerprint(dataset: Dataset) -> str:
    """Changes whenever what a model would learn from changes (so unchanged data skips training).

    The bundle format is part of it: after an upgrade that changes the format, the old model
    cannot be served, so the same data must be trained again.
    """
    digest = hashlib.sha256()
    digest.update(f"bundle-format-{BUNDLE_FORMAT_VERSION}".encode())
    for array in (dataset.track_ids, dataset.user, dataset.item, dataset.weight):
        digest.update(np.ascontiguousarray(array).tobytes())
    if dataset.listeners is not None:
        digest.update(repr(dataset.listeners.age.tolist()).encode())
        for values in (dataset.listeners.gender, dataset.listeners.country):
            digest.update("|".join(values.tolist()).encode())
    return digest.hexdigest()[:32]
