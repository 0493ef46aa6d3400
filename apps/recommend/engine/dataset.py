"""The data every predictor learns from.

A :class:`Dataset` is a set of parallel NumPy arrays indexed by *positions*: listener ``u`` is
``listener_ids[u]`` and track ``i`` is ``track_ids[i]``. Predictors work on positions only; the
Django adapters and the evaluation readers translate from and to external ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Audio features in the order of ``TrackFeatures.audio`` columns (the Echo Nest block of FMA).
AUDIO_FEATURES: tuple[str, ...] = (
    "acousticness",
    "danceability",
    "energy",
    "instrumentalness",
    "liveness",
    "speechiness",
    "tempo",
    "valence",
)


@dataclass
class ListenerFeatures:
    """Demographics, one entry per listener position. Unknown values are NaN / ``""``."""

    age: np.ndarray  # float32, NaN when unknown
    gender: np.ndarray  # object array of str, "" when unknown
    country: np.ndarray  # object array of str (ISO alpha-2), "" when unknown
    occupation: np.ndarray  # object array of str, "" when unknown

    @classmethod
    def empty(cls, n: int) -> ListenerFeatures:
        blank = np.full(n, "", dtype=object)
        return cls(
            age=np.full(n, np.nan, dtype=np.float32),
            gender=blank.copy(),
            country=blank.copy(),
            occupation=blank.copy(),
        )


@dataclass
class TrackFeatures:
    """Content features, one entry per track position. Unknown values are -1 / NaN / empty."""

    artist: np.ndarray  # int64 artist index, -1 when unknown
    album: np.ndarray  # int64 album index, -1 when unknown
    genres: list[list[int]]  # genre indexes per track (may be empty)
    tags: list[list[str]]  # free-text tags per track (may be empty)
    year: np.ndarray  # int32, 0 when unknown
    popularity: np.ndarray  # float32 prior popularity (e.g. FMA listens), >= 0
    audio: np.ndarray  # float32 (n_tracks, len(AUDIO_FEATURES)), NaN when unknown
    artist_names: list[str] = field(default_factory=list)  # optional, for explanations
    titles: list[str] = field(default_factory=list)  # optional, per track, for explanations

    @classmethod
    def empty(cls, n: int) -> TrackFeatures:
        return cls(
            artist=np.full(n, -1, dtype=np.int64),
            album=np.full(n, -1, dtype=np.int64),
            genres=[[] for _ in range(n)],
            tags=[[] for _ in range(n)],
            year=np.zeros(n, dtype=np.int32),
            popularity=np.zeros(n, dtype=np.float32),
            audio=np.full((n, len(AUDIO_FEATURES)), np.nan, dtype=np.float32),
        )


@dataclass
class Dataset:
    """Interactions between listeners and tracks, plus optional side features.

    ``user``, ``item``, ``weight`` and ``timestamp`` are parallel arrays, one row per
    interaction (an add, a play, a rating ...). ``timestamp`` is seconds since the epoch
    (float64); datasets without time use zeros.
    """

    listener_ids: np.ndarray
    track_ids: np.ndarray
    user: np.ndarray  # int64 listener positions
    item: np.ndarray  # int64 track positions
    weight: np.ndarray  # float32, > 0
    timestamp: np.ndarray  # float64 seconds since the epoch
    listeners: ListenerFeatures | None = None
    tracks: TrackFeatures | None = None

    @property
    def n_listeners(self) -> int:
        return len(self.listener_ids)

    @property
    def n_tracks(self) -> int:
        return len(self.track_ids)

    @property
    def n_interactions(self) -> int:
        return len(self.user)


@dataclass
class Context:
    """What we know about the listener we recommend for, at request time.

    ``history`` holds track positions in the order they were added (oldest first). The listener
    need not be part of the training data: every predictor must score a new history without
    retraining.
    """

    history: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    age: float = float("nan")
    gender: str = ""
    country: str = ""
    occupation: str = ""
    now: float | None = None  # seconds since the epoch; None means "the data's latest time"


@dataclass
class Scores:
    """A predictor's answer for one context.

    ``scores`` is aligned with the candidate positions that were asked for (higher is better;
    ``-inf`` means "never recommend"). ``confidence`` in [0, 1] says how much this predictor
    trusts its own answer for this listener; 0 means "I have nothing to say".
    """

    scores: np.ndarray
    confidence: float
    reasons: dict[int, str] = field(default_factory=dict)  # optional: track position -> reason
