"""Feature encoding for the hybrid two-tower model (NumPy only; shared by training and serving).

Every sparse feature of a track lives in *one* embedding table, in segments:

    [0: zero padding] [track ids] [artists] [albums] [genres] [hashed tags]

so a track is a fixed-width bag of rows (``tower_idx``/``tower_w``) and a history item is the
smaller bag ``hist_idx`` (id + artist + main genre). Tracks without enough interactions get
the zero row for their id, so they are represented by their metadata alone.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from apps.recommend.engine._common import age_band, age_bands, norm_str
from apps.recommend.engine.dataset import AUDIO_FEATURES, Dataset, TrackFeatures

MAX_GENRES = 2
MAX_TAGS = 3
TOWER_WIDTH = 3 + MAX_GENRES + MAX_TAGS
HIST_WIDTH = 3
YEAR_MIN, YEAR_STEP, N_YEAR_BUCKETS = 1950, 5, 17  # bucket 0 = unknown
N_POP_BUCKETS = 16  # bucket 0 = no popularity
N_AUDIO = len(AUDIO_FEATURES)
MAX_COUNTRIES = 250


def tag_bucket(tag: str, n_buckets: int) -> int:
    """A stable hash (crc32, unlike ``hash()``) of a tag into ``n_buckets``."""
    return zlib.crc32(tag.strip().lower().encode()) % n_buckets


@dataclass
class TrackEncoding:
    """Per-track inputs of the track tower and of the history pooling."""

    n_rows: int  # rows of the shared embedding table
    n_id_rows: int  # tracks that have their own id row
    tower_idx: np.ndarray  # int64 (n_tracks, TOWER_WIDTH)
    tower_w: np.ndarray  # float32 (n_tracks, TOWER_WIDTH)
    hist_idx: np.ndarray  # int64 (n_tracks, HIST_WIDTH)
    year_bucket: np.ndarray  # int64 (n_tracks,)
    pop_bucket: np.ndarray  # int64 (n_tracks,)
    audio: np.ndarray  # float32 (n_tracks, 2 * N_AUDIO): standardised values + missing flags
    has_id: np.ndarray  # bool (n_tracks,)


def encode_tracks(
    tracks: TrackFeatures | None, n_tracks: int, item_counts: np.ndarray, *, min_count: int,
    n_tag_buckets: int,
) -> TrackEncoding:  # fmt: skip
    tf = tracks if tracks is not None else TrackFeatures.empty(n_tracks)
    has_id = item_counts >= min_count
    id_row = np.zeros(n_tracks, dtype=np.int64)
    id_row[has_id] = 1 + np.arange(int(has_id.sum()))
    n_id = int(has_id.sum())
    n_artist = int(max(tf.artist.max(initial=-1), -1)) + 1
    n_album = int(max(tf.album.max(initial=-1), -1)) + 1
    n_genre = max((max(g) for g in tf.genres if g), default=-1) + 1
    a0 = 1 + n_id
    al0 = a0 + n_artist
    g0 = al0 + n_album
    t0 = g0 + n_genre
    n_rows = t0 + n_tag_buckets

    idx = np.zeros((n_tracks, TOWER_WIDTH), dtype=np.int64)
    w = np.zeros((n_tracks, TOWER_WIDTH), dtype=np.float32)
    idx[:, 0] = id_row
    idx[:, 1] = np.where(tf.artist >= 0, a0 + tf.artist, 0)
    idx[:, 2] = np.where(tf.album >= 0, al0 + tf.album, 0)
    w[:, :3] = 1.0
    hist = np.zeros((n_tracks, HIST_WIDTH), dtype=np.int64)
    hist[:, 0] = idx[:, 0]
    hist[:, 1] = idx[:, 1]
    for i in range(n_tracks):
        genres = tf.genres[i][:MAX_GENRES] if i < len(tf.genres) else []
        if genres:
            idx[i, 3 : 3 + len(genres)] = [g0 + g for g in genres]
            w[i, 3 : 3 + len(genres)] = 1.0 / len(genres)
            hist[i, 2] = g0 + genres[0]
        tags = tf.tags[i][:MAX_TAGS] if i < len(tf.tags) else []
        if tags:
            s = 3 + MAX_GENRES
            idx[i, s : s + len(tags)] = [t0 + tag_bucket(t, n_tag_buckets) for t in tags]
            w[i, s : s + len(tags)] = 1.0 / len(tags)

    year = np.asarray(tf.year, dtype=np.int64)
    year_bucket = np.where(
        year > 0, 1 + np.clip((year - YEAR_MIN) // YEAR_STEP, 0, N_YEAR_BUCKETS - 2), 0
    )
    pop = np.log1p(np.maximum(np.nan_to_num(np.asarray(tf.popularity, dtype=np.float64)), 0))
    pop_bucket = np.zeros(n_tracks, dtype=np.int64)
    if (pop > 0).any():
        edges = np.quantile(pop[pop > 0], np.linspace(0, 1, N_POP_BUCKETS)[1:-1])
        pop_bucket = np.where(pop > 0, 1 + np.searchsorted(edges, pop), 0)

    raw = np.asarray(tf.audio, dtype=np.float64).reshape(n_tracks, N_AUDIO)
    missing = ~np.isfinite(raw)
    mean = np.nanmean(np.where(missing, np.nan, raw), axis=0) if (~missing).any() else 0.0
    std = np.nanstd(np.where(missing, np.nan, raw), axis=0) if (~missing).any() else 1.0
    mean = np.nan_to_num(np.asarray(mean, dtype=np.float64))
    std = np.nan_to_num(np.asarray(std, dtype=np.float64), nan=1.0)
    z = np.where(missing, 0.0, (raw - mean) / np.where(std > 0, std, 1.0))
    audio = np.concatenate([z, missing.astype(np.float64)], axis=1).astype(np.float32)
    return TrackEncoding(
        n_rows=n_rows,
        n_id_rows=n_id,
        tower_idx=idx,
        tower_w=w,
        hist_idx=hist,
        year_bucket=year_bucket.astype(np.int64),
        pop_bucket=pop_bucket.astype(np.int64),
        audio=audio,
        has_id=has_id,
    )


@dataclass
class DemographicVocab:
    """Index maps for the listener tower's demographic embeddings (0 = unknown)."""

    gender: dict[str, int]
    country: dict[str, int]
    occupation: dict[str, int]

    @property
    def sizes(self) -> tuple[int, int, int, int]:
        """Rows of the age, gender, country and occupation embeddings."""
        return (
            9,
            len(self.gender) + 1,
            len(self.country) + 1,
            len(self.occupation) + 1,
        )

    @classmethod
    def build(cls, dataset: Dataset) -> DemographicVocab:
        lf = dataset.listeners

        def vocab(values: np.ndarray | None, limit: int | None = None) -> dict[str, int]:
            if values is None or len(values) == 0:
                return {}
            keys, counts = np.unique(
                np.array([norm_str(v) for v in values], dtype=object), return_counts=True
            )
            order = np.argsort(-counts, kind="stable")
            kept = [str(keys[j]) for j in order if keys[j] != ""][:limit]
            return {k: i + 1 for i, k in enumerate(sorted(kept))}

        return cls(
            gender=vocab(lf.gender if lf else None),
            country=vocab(lf.country if lf else None, MAX_COUNTRIES),
            occupation=vocab(lf.occupation if lf else None),
        )

    def encode_one(self, age: float, gender: str, country: str, occupation: str) -> np.ndarray:
        return np.array(
            [
                age_band(age) + 1,
                self.gender.get(norm_str(gender), 0),
                self.country.get(norm_str(country), 0),
                self.occupation.get(norm_str(occupation), 0),
            ],
            dtype=np.int64,
        )

    def encode_all(self, dataset: Dataset) -> np.ndarray:
        """(n_listeners, 4) int64 indexes."""
        n = dataset.n_listeners
        lf = dataset.listeners
        if lf is None:
            return np.zeros((n, 4), dtype=np.int64)
        out = np.zeros((n, 4), dtype=np.int64)
        out[:, 0] = age_bands(lf.age) + 1
        for col, (values, voc) in enumerate(
            (
                (lf.gender, self.gender),
                (lf.country, self.country),
                (lf.occupation, self.occupation),
            ),
            start=1,
        ):
            out[:, col] = [voc.get(norm_str(v), 0) for v in values]
        return out

    def to_json(self) -> dict[str, Any]:
        return {"gender": self.gender, "country": self.country, "occupation": self.occupation}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DemographicVocab:
        return cls(
            gender={k: int(v) for k, v in data["gender"].items()},
            country={k: int(v) for k, v in data["country"].items()},
            occupation={k: int(v) for k, v in data["occupation"].items()},
        )
