"""Similar tracks: the model's track vectors blended with item-item co-occurrence.

Co-occurrence is computed at request time from two capped adjacency lists (track -> its most
recent listeners, listener -> their most recent tracks), so fitting is a sort and a request
touches at most ``max_listeners_per_track x max_items_per_listener`` rows per seed track. The
co-occurrence count of ``j`` with the seeds is divided by ``sqrt(count(j))`` (a cosine-like
damping, so that hits are not just the most popular tracks) and scaled to [0, 1]; the vector
part is the cosine with the seeds' centroid. Both are blended with ``vector_weight``.

As a predictor it looks at the last few history tracks; it is most useful for short histories,
so its confidence falls as the history grows and the model takes over. As a predictor it uses
co-occurrence only by default (``predictor_vector_weight = 0``): the model's own score is
already a cosine over the same track vectors, and a second 106K x 64 product per request
would cost as much as the model's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from apps.recommend.engine._common import history_of, saturating, take
from apps.recommend.engine.dataset import Context, Dataset, Scores
from apps.recommend.engine.model import HybridPredictor

_EMPTY_I = np.zeros(0, dtype=np.int32)


def _capped_csr(
    keys: np.ndarray, values: np.ndarray, order_by: np.ndarray, n_keys: int, cap: int
) -> tuple[np.ndarray, np.ndarray]:
    """CSR of ``values`` grouped by ``keys``, keeping the ``cap`` latest (by ``order_by``)."""
    order = np.lexsort((-order_by, keys))
    k, v = keys[order], values[order]
    starts = np.concatenate([[0], np.cumsum(np.bincount(k, minlength=n_keys))])
    rank = np.arange(len(k)) - starts[k]
    keep = rank < cap
    k, v = k[keep], v[keep]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(k, minlength=n_keys))]).astype(np.int64)
    return indptr, v.astype(np.int32)


@dataclass
class SimilarTracks:
    """Neighbours of tracks, and a predictor built on them for short histories."""

    model: HybridPredictor | None = None
    name: str = "similar"
    vector_weight: float = 0.5  # share of the model's cosine vs co-occurrence
    predictor_vector_weight: float = 0.0  # the same, when scoring a history
    max_listeners_per_track: int = 200
    max_items_per_listener: int = 100
    seeds: int = 5  # history tracks (the latest) that a prediction starts from
    seed_listeners: int = 50  # co-listeners per seed track when predicting
    support_full: float = 20_000.0  # interactions for full data confidence
    short_history: float = 5.0  # full confidence up to this many history tracks

    n_tracks: int = 0
    n_interactions: int = 0
    item_count: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    item_users_ptr: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    item_users: np.ndarray = field(default_factory=lambda: _EMPTY_I)
    user_items_ptr: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    user_items: np.ndarray = field(default_factory=lambda: _EMPTY_I)

    def fit(self, dataset: Dataset) -> SimilarTracks:
        """Build the adjacency lists; the model (if any) must be fitted already."""
        self.n_tracks = dataset.n_tracks
        self.n_interactions = dataset.n_interactions
        self.item_count = np.bincount(dataset.item, minlength=dataset.n_tracks).astype(np.float32)
        self.item_users_ptr, self.item_users = _capped_csr(
            dataset.item, dataset.user, dataset.timestamp, dataset.n_tracks,
            self.max_listeners_per_track,
        )  # fmt: skip
        self.user_items_ptr, self.user_items = _capped_csr(
            dataset.user, dataset.item, dataset.timestamp, dataset.n_listeners,
            self.max_items_per_listener,
        )  # fmt: skip
        return self

    @property
    def _vectors(self) -> np.ndarray | None:
        m = self.model
        return m.track_vectors if m is not None and m.trained else None

    def _cooccurrence(self, seeds: np.ndarray, per_seed: int) -> np.ndarray:
        """Damped co-occurrence with ``seeds``, scaled to [0, 1] (all zeros when none)."""
        ptr, users = self.item_users_ptr, self.item_users
        parts = [users[ptr[s] : min(ptr[s + 1], ptr[s] + per_seed)] for s in seeds]
        co_users = np.concatenate(parts) if parts else _EMPTY_I
        if not len(co_users):
            return np.zeros(self.n_tracks, dtype=np.float32)
        uptr, uitems = self.user_items_ptr, self.user_items
        items = np.concatenate([uitems[uptr[u] : uptr[u + 1]] for u in co_users])
        counts = np.bincount(items, minlength=self.n_tracks).astype(np.float32)
        counts /= np.sqrt(self.item_count + 1.0)
        top = float(counts.max())
        return counts / top if top > 0 else counts

    def _blend(self, seeds: np.ndarray, per_seed: int, vector_weight: float) -> np.ndarray:
        co = self._cooccurrence(seeds, per_seed)
        vecs = self._vectors
        if vecs is None or vector_weight <= 0:
            return co
        centroid = vecs[seeds].mean(axis=0)
        norm = float(np.linalg.norm(centroid))
        if norm == 0:
            return co
        cos = vecs @ (centroid / norm)
        w = np.float32(vector_weight)
        return w * cos + (np.float32(1) - w) * co

    def similar(self, track: int, n: int = 10) -> list[tuple[int, float]]:
        """The ``n`` tracks most like ``track`` (not itself), best first, with their scores."""
        if not 0 <= track < self.n_tracks or n <= 0:
            return []
        scores = self._blend(np.array([track]), self.max_listeners_per_track, self.vector_weight)
        scores[track] = -np.inf
        k = min(n, self.n_tracks - 1)
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top if np.isfinite(scores[i])]

    def score(self, context: Context, candidates: np.ndarray | None = None) -> Scores:
        hist = history_of(context)
        hist = hist[(hist >= 0) & (hist < self.n_tracks)]
        if not len(hist) or self.n_tracks == 0:
            n = self.n_tracks if candidates is None else len(candidates)
            return Scores(scores=np.zeros(n, dtype=np.float32), confidence=0.0)
        seeds = hist[-self.seeds :]
        scores = self._blend(seeds, self.seed_listeners, self.predictor_vector_weight)
        support = saturating(self.n_interactions, self.support_full / 3)
        if self._vectors is None and not self.item_count[seeds].any():
            support = 0.0
        short = min(1.0, self.short_history / len(hist))
        return Scores(scores=take(scores, candidates), confidence=support * short)

    def because(self, context: Context, track: int) -> int | None:
        hist = history_of(context)
        hist = hist[(hist >= 0) & (hist < self.n_tracks)]
        if not len(hist):
            return None
        vecs = self._vectors
        if vecs is not None:
            return int(hist[int(np.argmax(vecs[hist] @ vecs[track]))])
        return int(hist[-1])

    # --- persistence (the model is saved on its own and re-attached) ----------------------------
    def get_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        arrays = {
            "item_count": self.item_count,
            "item_users_ptr": self.item_users_ptr,
            "item_users": self.item_users,
            "user_items_ptr": self.user_items_ptr,
            "user_items": self.user_items,
        }
        meta = {
            k: getattr(self, k)
            for k in (
                "name", "vector_weight", "predictor_vector_weight", "max_listeners_per_track",
                "max_items_per_listener", "seeds", "seed_listeners", "support_full", "short_history", "n_tracks",
                "n_interactions",
            )
        }  # fmt: skip
        return arrays, meta

    @classmethod
    def from_state(
        cls, arrays: dict[str, np.ndarray], meta: dict[str, Any], model: HybridPredictor | None
    ) -> SimilarTracks:
        predictor = cls(model=model)
        for key, value in {**meta, **arrays}.items():
            setattr(predictor, key, value)
        return predictor
