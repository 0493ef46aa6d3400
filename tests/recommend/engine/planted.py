"""Small datasets with a known answer for the engine tests."""

from __future__ import annotations

import numpy as np

from apps.recommend.engine.dataset import Dataset, ListenerFeatures, TrackFeatures

A, B, C = 0, 1, 2  # the planted co-listened tracks


def make_dataset(
    users: list[int],
    items: list[int],
    n_listeners: int,
    n_tracks: int,
    *,
    timestamps: list[float] | None = None,
    listeners: ListenerFeatures | None = None,
    tracks: TrackFeatures | None = None,
) -> Dataset:
    n = len(users)
    return Dataset(
        listener_ids=np.arange(n_listeners, dtype=np.int64),
        track_ids=np.arange(n_tracks, dtype=np.int64) + 100,
        user=np.asarray(users, dtype=np.int64),
        item=np.asarray(items, dtype=np.int64),
        weight=np.ones(n, dtype=np.float32),
        timestamp=np.asarray(
            timestamps if timestamps is not None else np.zeros(n), dtype=np.float64
        ),
        listeners=listeners,
        tracks=tracks,
    )


def co_listening(seed: int = 0, n_listeners: int = 300, n_tracks: int = 120) -> Dataset:
    """Half the listeners have A, B and C; everyone has 8 random other tracks.

    Each track has its own artist and no genre, so only co-listening links A, B and C.
    """
    rng = np.random.default_rng(seed)
    users: list[int] = []
    items: list[int] = []
    for u in range(n_listeners):
        picks = list(rng.choice(np.arange(3, n_tracks), 8, replace=False))
        if u % 2 == 0:
            picks += [A, B, C]
        users += [u] * len(picks)
        items += [int(i) for i in picks]
    tracks = TrackFeatures.empty(n_tracks)
    tracks.artist = np.arange(n_tracks, dtype=np.int64)
    tracks.popularity = np.ones(n_tracks, dtype=np.float32)
    tracks.titles = [f"Song {i}" for i in range(n_tracks)]
    tracks.artist_names = [f"Artist {i}" for i in range(n_tracks)]
    return make_dataset(users, items, n_listeners, n_tracks, tracks=tracks)
