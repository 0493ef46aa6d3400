"""Co-occurrence predictor: "listeners who added this also added ...", for short histories.

For every active track ``i`` it keeps the smoothed share of ``i``'s listeners who also hold
track ``j``::

    P(j | i) = (C_ij + m p_j) / (n_i + m)

where ``C_ij`` counts listeners holding both, ``n_i`` listeners holding ``i``, ``p`` is
popularity (listeners per track, with the catalogue prior worth one listener) as a
distribution, and ``m`` (``smoothing``) pulls a rarely heard track toward popularity. A
history ``A`` scores ``j`` with the mean over its active tracks, as a log::

    score(j) = log( mean_{i in A} P(j | i) )

Why a second item-item predictor next to EASE: EASE's weights are *partial* effects, tuned for
histories of dozens of items, and on one or two items they are noisy. In the ML-100K cold-start
evaluation (docs/evaluation.md), fed the first item of each held-out listener, co-occurrence
ranks the held-out items at 1.15x the NDCG@10 of popularity where our EASE (at the lambda its
validation picks for full histories) ranks them at 0.84x; fed three, 1.36x against 1.27x. With
full histories EASE is far ahead (0.308 against 0.211). The ensemble tunes a blend per history
length and picks which one speaks (see ``bundle.HISTORY_SLICES``).

Serving state is the same shape as EASE's (``_neighbours.NeighbourLists``): per active track the
``k_neighbours`` largest ``C_ij / (n_i + m)``, best first. Tracks outside a history track's list
get only its smoothing term, i.e. popularity order. Counts are computed in chunks of rows of the
sparse product ``X_active^T X`` so the dense co-occurrence matrix never exists.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from apps.recommend.engine._common import distinct_pairs, prior_distribution, take
from apps.recommend.engine._neighbours import (
    EMPTY_F32,
    EMPTY_I32,
    NeighbourLists,
    active_tracks,
)
from apps.recommend.engine.dataset import Context, Dataset, Scores

logger = logging.getLogger(__name__)

#: Rows of the co-occurrence product computed at once, and the most listener-track products
#: in one chunk (bounds its temporary memory to a few hundred MB).
CHUNK_ROWS = 2_048
CHUNK_PRODUCTS = 20_000_000
DEFAULT_MAX_ITEMS = 30_000
DEFAULT_K_NEIGHBOURS = 100


@dataclass
class CoOccurrencePredictor(NeighbourLists):
    """Mean smoothed conditional probability of each track given the history's tracks."""

    name: str = "cooccurrence"
    smoothing: float = 1.0  # m: listeners' worth of popularity mixed into every P(. | i)
    min_count: int = 2  # listeners a track needs to have a neighbour list
    max_items: int = DEFAULT_MAX_ITEMS  # most popular tracks with a neighbour list
    k_neighbours: int = DEFAULT_K_NEIGHBOURS
    history_scale: float = 2.0  # active history items for 63% of the history factor
    support_half: float = 2_000.0  # training pairs at which data support is 0.5

    n_tracks: int = 0
    n_interactions: int = 0
    fit_seconds: float = 0.0
    popularity: np.ndarray = field(default_factory=lambda: EMPTY_F32)  # p, sums to 1
    listeners: np.ndarray = field(default_factory=lambda: EMPTY_F32)  # n_i per active row
    _log_popularity: np.ndarray = field(default_factory=lambda: EMPTY_F32, init=False, repr=False)

    def __post_init__(self) -> None:
        self._index()

    # --- fitting ------------------------------------------------------------------------------
    def fit(self, dataset: Dataset) -> CoOccurrencePredictor:
        if self.smoothing <= 0:
            raise ValueError(f"smoothing must be > 0, got {self.smoothing}")
        start = time.perf_counter()
        n = dataset.n_tracks
        self.n_tracks = n
        users, items, _ = distinct_pairs(dataset)
        self.n_interactions = len(users)
        counts = np.bincount(items, minlength=n).astype(np.float64)
        prior = prior_distribution(dataset, n)
        self.popularity = ((counts + prior) / (counts.sum() + 1.0)).astype(np.float32)
        self.active = active_tracks(counts, self.min_count, self.max_items)
        self.listeners = counts[self.active].astype(np.float32)
        k = max(0, min(self.k_neighbours, n - 1))
        if len(self.active) == 0 or k == 0:
            self.indptr = np.zeros(len(self.active) + 1, dtype=np.int64)
            self.indices, self.data = EMPTY_I32, EMPTY_F32
        else:
            x = sp.csr_matrix(
                (np.ones(len(users), dtype=np.float32), (users, items)),
                shape=(dataset.n_listeners, n),
            )
            by_track = x.T.tocsr()[self.active]
            self._neighbour_lists(by_track, x, k)
        self._index()
        self.fit_seconds = time.perf_counter() - start
        logger.info(
            "cooccurrence: %d tracks with neighbours, %d weights, %.1f s",
            len(self.active),
            len(self.data),
            self.fit_seconds,
        )
        return self

    def _neighbour_lists(self, by_track: sp.csr_matrix, x: sp.csr_matrix, k: int) -> None:
        """The ``k`` largest ``C_ij / (n_i + m)`` of each active row, best first.

        Rows are computed in chunks whose products (the sum over a row's listeners of their
        history lengths, an upper bound on its non-zeros) stay under ``CHUNK_PRODUCTS``, so a
        chunk of popular tracks does not hold millions of counts at once.
        """
        indptr = [np.zeros(1, dtype=np.int64)]
        idx_parts: list[np.ndarray] = []
        val_parts: list[np.ndarray] = []
        total = 0
        history_lengths = np.asarray(x.sum(axis=1)).ravel()
        products = np.cumsum(by_track @ history_lengths)
        r0 = 0
        while r0 < len(self.active):
            budget = (products[r0 - 1] if r0 else 0.0) + CHUNK_PRODUCTS
            r1 = int(np.searchsorted(products, budget, side="right"))
            r1 = min(len(self.active), max(r1, r0 + 1), r0 + CHUNK_ROWS)
            together = (by_track[r0:r1] @ x).tocsr()  # C_ij for these rows
            together.sort_indices()
            row_lengths = np.diff(together.indptr)
            owner = np.repeat(np.arange(r0, r1), row_lengths)
            # no track is its own neighbour
            together.data[together.indices == self.active[owner]] = 0.0
            norm = (1.0 / (self.listeners[r0:r1] + self.smoothing)).astype(np.float32)
            lengths = np.zeros(r1 - r0, dtype=np.int64)
            for row in range(r1 - r0):
                lo, hi = together.indptr[row], together.indptr[row + 1]
                cols, vals = together.indices[lo:hi], together.data[lo:hi]
                keep = vals > 0
                cols, vals = cols[keep], vals[keep]
                if len(vals) > k:
                    # the k largest; among equal counts at the cut, the lowest track positions
                    # (cols are sorted), so the lists do not depend on the partition's order
                    cut = np.partition(vals, len(vals) - k)[len(vals) - k]
                    above = vals > cut
                    tied = np.flatnonzero(vals == cut)[: k - int(above.sum())]
                    above[tied] = True
                    cols, vals = cols[above], vals[above]
                order = np.lexsort((cols, -vals))  # best first, ties by track position
                idx_parts.append(cols[order].astype(np.int32))
                val_parts.append((vals[order] * norm[row]).astype(np.float32))
                lengths[row] = len(order)
            total_lengths = np.cumsum(lengths) + total
            total = int(total_lengths[-1]) if len(total_lengths) else total
            indptr.append(total_lengths)
            r0 = r1
        self.indptr = np.concatenate(indptr).astype(np.int64)
        self.indices = np.concatenate(idx_parts) if idx_parts else EMPTY_I32
        self.data = np.concatenate(val_parts) if val_parts else EMPTY_F32

    def _index(self) -> None:
        """Derived lookups (not persisted): track -> row, and log popularity."""
        self._index_rows()
        self._log_popularity = np.log(np.maximum(self.popularity, np.float32(1e-30)))
        self._log_popularity.flags.writeable = False

    def chosen_settings(self) -> dict[str, Any]:
        """What the report shows about this predictor."""
        return {"tracks_with_neighbours": len(self.active), "smoothing": self.smoothing}

    # --- serving ------------------------------------------------------------------------------
    def score(self, context: Context, candidates: np.ndarray | None = None) -> Scores:
        if self.n_tracks == 0:
            n = 0 if candidates is None else len(candidates)
            return Scores(scores=np.zeros(n, dtype=np.float32), confidence=0.0)
        _, rows = self._history_rows(context)
        if not len(rows):
            return Scores(scores=take(self._log_popularity, candidates), confidence=0.0)
        # sum_i P(j|i) = sum_i C_ij / (n_i + m)  +  m p_j sum_i 1 / (n_i + m)
        spread = self.smoothing * float(np.sum(1.0 / (self.listeners[rows] + self.smoothing)))
        mixed = self.popularity * np.float32(spread)
        _, cols, vals = self._gather(rows)
        np.add.at(mixed, cols, vals)
        # the 1/|A| of the mean is the same for every track: it does not change the ranking
        scores = np.log(np.maximum(mixed, np.float32(1e-30)))
        return Scores(scores=take(scores, candidates), confidence=self.confidence(len(rows)))

    # --- persistence --------------------------------------------------------------------------
    def get_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        arrays = {
            "popularity": self.popularity,
            "listeners": self.listeners,
            **self._neighbour_state(),
        }
        meta = {
            "name": self.name,
            "smoothing": self.smoothing,
            "min_count": self.min_count,
            "max_items": self.max_items,
            "k_neighbours": self.k_neighbours,
            "history_scale": self.history_scale,
            "support_half": self.support_half,
            "n_tracks": self.n_tracks,
            "n_interactions": self.n_interactions,
            "fit_seconds": self.fit_seconds,
        }
        return arrays, meta

    @classmethod
    def from_state(
        cls, arrays: dict[str, np.ndarray], meta: dict[str, Any]
    ) -> CoOccurrencePredictor:
        return cls(
            name=str(meta["name"]),
            smoothing=float(meta["smoothing"]),
            min_count=int(meta["min_count"]),
            max_items=int(meta["max_items"]),
            k_neighbours=int(meta["k_neighbours"]),
            history_scale=float(meta["history_scale"]),
            support_half=float(meta["support_half"]),
            n_tracks=int(meta["n_tracks"]),
            n_interactions=int(meta["n_interactions"]),
            fit_seconds=float(meta["fit_seconds"]),
            popularity=np.asarray(arrays["popularity"], dtype=np.float32),
            listeners=np.asarray(arrays["listeners"], dtype=np.float32),
            **cls._neighbour_fields(arrays),
        )
