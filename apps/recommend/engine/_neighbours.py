"""Sparse per-item neighbour lists, shared by the item-item and co-occurrence predictors.

Both keep, for each *active* item, a short list of (track position, weight) pairs sorted best
first, as one CSR matrix (``indptr``/``indices``/``data``) whose rows are active items in the
order of ``active``. This mixin serves them: which rows a history selects, gathering those rows
into flat arrays, an item's strongest neighbours, and which history item argues most for a
recommended track (for the "Because you added ..." reason).

The dataclass holds the lists, ``_row_of`` (track position -> row, -1 when the track is not
active; built by ``_index_rows``), ``n_tracks``, and for :meth:`confidence` ``n_interactions``,
``history_scale`` and ``support_half``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from apps.recommend.engine._common import history_of, saturating
from apps.recommend.engine.dataset import Context


def active_tracks(counts: np.ndarray, min_count: int, max_items: int) -> np.ndarray:
    """Tracks with at least ``min_count`` listeners, the ``max_items`` most held, by position."""
    eligible = np.flatnonzero(counts >= max(min_count, 1))
    by_count = eligible[np.argsort(-counts[eligible], kind="stable")][:max_items]
    return np.sort(by_count).astype(np.int64)  # position order, for cache locality


#: Empty arrays of the dtypes neighbour lists hold, for "no neighbours" (shared, never written).
EMPTY_I32 = np.zeros(0, dtype=np.int32)
EMPTY_F32 = np.zeros(0, dtype=np.float32)


@dataclass
class NeighbourLists:
    """Serving helpers over CSR neighbour lists (see the module docstring)."""

    active: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # per row
    indptr: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))
    indices: np.ndarray = field(default_factory=lambda: EMPTY_I32)  # int32 track positions
    data: np.ndarray = field(default_factory=lambda: EMPTY_F32)  # float32, rows best first
    _row_of: np.ndarray = field(default_factory=lambda: EMPTY_I32, init=False, repr=False)

    # the subclass declares these again with its own defaults and comments
    n_tracks: int = 0
    n_interactions: int = 0  # distinct (listener, track) pairs learnt from
    history_scale: float = 5.0  # active history items for 63% of the history factor
    support_half: float = 2_000.0  # training interactions at which data support is 0.5

    def _neighbour_state(self) -> dict[str, np.ndarray]:
        """The lists, for ``get_state``."""
        return {
            "active": self.active,
            "indptr": self.indptr,
            "indices": self.indices,
            "data": self.data,
        }

    @staticmethod
    def _neighbour_fields(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Constructor arguments from ``_neighbour_state``'s arrays, for ``from_state``."""
        return {
            "active": np.asarray(arrays["active"], dtype=np.int64),
            "indptr": np.asarray(arrays["indptr"], dtype=np.int64),
            "indices": np.asarray(arrays["indices"], dtype=np.int32),
            "data": np.asarray(arrays["data"], dtype=np.float32),
        }

    def _index_rows(self) -> None:
        self._row_of = np.full(self.n_tracks, -1, dtype=np.int32)
        self._row_of[self.active] = np.arange(len(self.active), dtype=np.int32)

    def _history_rows(self, context: Context) -> tuple[np.ndarray, np.ndarray]:
        """Distinct known history tracks that are active items, and their rows."""
        hist = history_of(context)
        hist = np.unique(hist[(hist >= 0) & (hist < self.n_tracks)])
        rows = self._row_of[hist]
        mask = rows >= 0
        return hist[mask], rows[mask].astype(np.int64)

    def _gather(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Concatenated (which row, column, weight) of the CSR rows ``rows``."""
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        offsets = np.cumsum(lengths) - lengths
        pos = np.repeat(starts - offsets, lengths) + np.arange(total)
        which = np.repeat(np.arange(len(rows)), lengths)
        return which, self.indices[pos], self.data[pos]

    def similar(self, track: int, n: int = 10) -> list[tuple[int, float]]:
        """The ``n`` strongest positive neighbours of ``track`` (not itself), best first."""
        if not 0 <= track < self.n_tracks or n <= 0:
            return []
        row = int(self._row_of[track])
        if row < 0:
            return []
        lo, hi = int(self.indptr[row]), int(self.indptr[row + 1])
        cols, vals = self.indices[lo:hi], self.data[lo:hi]  # sorted best first
        keep = (vals > 0) & (cols != track)
        return [(int(c), float(v)) for c, v in zip(cols[keep][:n], vals[keep][:n], strict=True)]

    def because(self, context: Context, track: int) -> int | None:
        """The history track whose weight toward ``track`` is largest (positive), if any."""
        hist, rows = self._history_rows(context)
        if not len(rows):
            return None
        which, cols, vals = self._gather(rows)
        hit = cols == track
        if not hit.any():
            return None
        best = int(np.argmax(np.where(hit, vals, -np.inf)))
        if vals[best] <= 0:
            return None
        return int(hist[which[best]])

    def confidence(self, n_active_history: int) -> float:
        """History factor (active history items) times data support (training interactions)."""
        if n_active_history <= 0 or len(self.data) == 0:
            return 0.0
        history = 1.0 - math.exp(-n_active_history / self.history_scale)
        return float(history * saturating(self.n_interactions, self.support_half))
