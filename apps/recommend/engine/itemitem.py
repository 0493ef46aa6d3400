"""Item-item predictor: EASE (Steck 2019) on the active items, sparsified for serving.

Fitting
    ``B = I - P diag(1/diag(P))`` with ``P = (X^T X + lam I)^-1`` and a zero diagonal, where ``X``
    is the listeners x *active items* matrix. Active items are the tracks with at least
    ``min_count`` listeners, capped at the ``max_items`` most popular: the catalogue has ~107K
    tracks but few have interactions, and the inverse is cubic in the number of items. On our
    shared 2-core machines a fit on 2.4 M interactions took ~45 s at 12,000 items (the default)
    and ~5 min at 20,000, so 20,000 is available but not the default. ``P`` comes from a
    Cholesky factorisation (LAPACK ``potrf``/``potri``, in place) because ``X^T X + lam I`` is
    symmetric positive definite; small problems run in float64, large ones in float32 to halve
    memory and time. ``lam`` is given, or chosen by NDCG@10 on an internal validation: 20% of the
    items of some listeners are held out, the model is fitted on the rest (on at most
    ``tune_max_items`` items, the most popular, so tuning stays cheap next to the final fit) for
    every ``lam`` of ``lam_grid``. With few listeners the score is averaged over up to
    ``tune_folds`` disjoint groups of validation listeners. With ``weighting="auto"`` (the
    default) and weights that differ (ratings, play counts), the value of each cell of ``X``
    (1, log1p of the summed weights, or the summed weights) is chosen together with ``lam``.

Serving state
    Row ``i`` of ``B`` holds what active item ``i`` says about every other item. Only
    ``k_neighbours`` weights of each row are kept, by default the largest in *magnitude*: the
    negative weights matter (on ML-100K, keeping the 200 largest values lost 3% NDCG@10 against
    dense EASE, keeping the 200 largest magnitudes lost 0-0.7%). They are a CSR matrix whose rows
    are active items and whose columns are *track positions*, each row sorted by weight (best
    first). At 12,000 items x 200 neighbours that is 19 MB. Scoring a history gathers its rows
    (O(len(history) x k)) and scatters them into a float32 vector over all tracks.

Scores
    Active items get the sum of their weights from the history, plus a tiny popularity
    tie-breaker (``tie_break`` x count / max count) so an empty or unrelated history ranks them
    by popularity. Inactive items (no or too few interactions) get exactly 0: the predictor has
    nothing to say about them, and the ensemble decides (other predictors score them from
    metadata). Because EASE weights can be negative, an active item the history argues against
    can score below 0, i.e. below the inactive items. History tracks are *not* excluded here (the
    ensemble excludes them).

Confidence
    ``(1 - exp(-a / history_scale)) * n / (n + support_half)`` with ``a`` the number of distinct
    history tracks that are active items and ``n`` the number of training interactions: 0 when the
    history has no active item, growing with both the history and the data behind the weights.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.linalg import lapack

from apps.recommend.engine._common import distinct_pairs, ndcg_of_hits, take
from apps.recommend.engine._neighbours import (
    EMPTY_F32,
    EMPTY_I32,
    NeighbourLists,
    active_tracks,
)
from apps.recommend.engine.dataset import Context, Dataset, Scores

logger = logging.getLogger(__name__)

#: Most items EASE inverts by default. The inverse is cubic: on our 2-core machines (shared,
#: load ~4) 12,000 items fit in ~45 s all told, 20,000 in ~4-5 min (see the module docstring).
DEFAULT_MAX_ITEMS = 12_000
DEFAULT_K_NEIGHBOURS = 200
#: Regularisation grid for the internal validation (weights are scaled to a mean of 1).
DEFAULT_LAM_GRID: tuple[float, ...] = (25.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1600.0, 3200.0)
#: Used when there is too little data to validate.
FALLBACK_LAM = 200.0
WEIGHTINGS = ("binary", "log", "linear")
AUTO = "auto"
KEEPS = ("magnitude", "largest")
#: Above this many items the inverse runs in float32 (half the memory, twice the speed).
FLOAT64_MAX_ITEMS = 2_000
#: Rows of B handled at once while sparsifying (bounds the temporary memory).
SPARSIFY_CHUNK_ROWS = 1_024
#: Fewer eligible validation listeners than this: no tuning, ``FALLBACK_LAM``.
MIN_TUNING_LISTENERS = 20
#: A listener needs this many distinct items to be a validation listener.
MIN_TUNING_HISTORY = 5
TUNING_K = 10


def _weigh(summed: np.ndarray, weighting: str) -> np.ndarray:
    """Each pair's value in ``X`` under ``weighting``, scaled to a mean of 1."""
    if weighting == "binary":
        return np.ones(len(summed), dtype=np.float64)
    w = np.log1p(np.maximum(summed, 0.0)) if weighting == "log" else np.maximum(summed, 0.0)
    # scaled to a mean of 1 so one lambda grid fits every weighting
    return w / max(float(w.mean()), 1e-12)


def _gram(
    users: np.ndarray, cols: np.ndarray, w: np.ndarray, n_users: int, n_items: int, dtype: type
) -> np.ndarray:
    x = sp.csr_matrix((w.astype(dtype), (users, cols)), shape=(n_users, n_items))
    gram: np.ndarray = (x.T @ x).toarray()
    return np.ascontiguousarray(gram, dtype=dtype)


def _inverse_upper(gram: np.ndarray, lam: float) -> np.ndarray:
    """``(gram + lam I)^-1`` by Cholesky, in place; only the upper triangle is valid after."""
    gram[np.diag_indices_from(gram)] += lam
    potrf, potri = lapack.get_lapack_funcs(("potrf", "potri"), (gram,))
    # LAPACK is column-major: the transpose of a C-ordered array is an F-ordered view, and a
    # symmetric matrix's "lower" in Fortran is its "upper" in C.
    factor, info = potrf(gram.T, lower=1, overwrite_a=1, clean=0)
    if info != 0:
        raise np.linalg.LinAlgError(f"Cholesky failed (info={info}); increase lam")
    inverse, info = potri(factor, lower=1, overwrite_c=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"inverse failed (info={info})")
    upper: np.ndarray = inverse.T
    return upper


def _rows_of_inverse(upper: np.ndarray, r0: int, r1: int) -> np.ndarray:
    """Rows ``r0:r1`` of the symmetric matrix whose upper triangle is ``upper``."""
    return np.triu(upper[r0:r1], r0) + np.tril(upper[:, r0:r1].T, r0 - 1)


def _dense_weights(gram: np.ndarray, lam: float) -> np.ndarray:
    """The full EASE matrix (for small problems: tuning)."""
    upper = _inverse_upper(gram, lam)
    inverse = _rows_of_inverse(upper, 0, upper.shape[0])
    weights: np.ndarray = -inverse / np.diag(inverse)
    np.fill_diagonal(weights, 0.0)
    return weights


def _ndcg_at_k(weights: np.ndarray, fed: sp.csr_matrix, heldout: list[np.ndarray], k: int) -> float:
    """Mean binary NDCG@k over validation listeners (fed-in items never count)."""
    scores = np.asarray(fed @ weights)
    scores[fed.nonzero()] = -np.inf
    kk = min(k, scores.shape[1])
    top = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
    order = np.take_along_axis(scores, top, axis=1).argsort(axis=1)[:, ::-1]
    top = np.take_along_axis(top, order, axis=1)
    total = sum(
        ndcg_of_hits(np.isin(row, relevant), len(relevant), kk)
        for row, relevant in zip(top, heldout, strict=True)
    )
    return total / max(len(heldout), 1)


@dataclass
class ItemItemPredictor(NeighbourLists):
    """EASE item-item weights on the active items, top-``k_neighbours`` per item kept."""

    name: str = "itemitem"
    lam: float | None = None  # None: chosen on an internal validation from lam_grid
    lam_grid: tuple[float, ...] = DEFAULT_LAM_GRID
    # "binary", "log" (log1p of summed weights), "linear", or "auto": chosen with lam on the
    # internal validation (on ML-100K ratings "linear" beat "binary" on some splits)
    weighting: str = AUTO
    min_count: int = 2  # listeners an item needs to be active
    max_items: int = DEFAULT_MAX_ITEMS
    k_neighbours: int = DEFAULT_K_NEIGHBOURS
    keep: str = "magnitude"  # which k weights per row: "magnitude" (|w|) or "largest" (w)
    tune_share: float = 0.2  # share of eligible listeners used for validation
    tune_max_listeners: int = 2_000
    tune_holdout: float = 0.2  # share of a validation listener's items held out
    tune_folds: int = 5  # disjoint validation folds averaged when listeners are few
    tune_max_items: int = 2_500
    seed: int = 0
    history_scale: float = 5.0  # active history items for 63% of the history factor
    support_half: float = 2_000.0  # training interactions at which data support is 0.5
    tie_break: float = 1e-6

    n_tracks: int = 0
    n_interactions: int = 0
    chosen_lam: float = 0.0
    chosen_weighting: str = "binary"
    fit_seconds: float = 0.0
    tuning: dict[str, float] = field(default_factory=dict)  # str(lam) -> validation NDCG@10
    active_tie: np.ndarray = field(default_factory=lambda: EMPTY_F32)  # tie-break per row
    _base: np.ndarray = field(default_factory=lambda: EMPTY_F32, init=False, repr=False)

    def __post_init__(self) -> None:
        self._index()

    # --- fitting ------------------------------------------------------------------------------
    def fit(self, dataset: Dataset) -> ItemItemPredictor:
        if self.keep not in KEEPS:
            raise ValueError(f"keep must be one of {KEEPS}, got {self.keep!r}")
        if self.weighting not in (*WEIGHTINGS, AUTO):
            raise ValueError(
                f"weighting must be one of {(*WEIGHTINGS, AUTO)}, got {self.weighting!r}"
            )
        start = time.perf_counter()
        self.n_tracks = dataset.n_tracks
        users, items, summed = distinct_pairs(dataset)
        self.n_interactions = len(users)
        # "auto": every weighting when the weights differ at all (ratings, play counts)
        if self.weighting != AUTO:
            weightings: tuple[str, ...] = (self.weighting,)
        elif len(summed) and float(summed.min()) < float(summed.max()):
            weightings = WEIGHTINGS
        else:
            weightings = ("binary",)
        self.chosen_weighting = weightings[0]
        counts = np.bincount(items, minlength=self.n_tracks)
        active = active_tracks(counts, self.min_count, self.max_items)
        self.active = active
        if len(active) < 2:
            self._set_weights(np.zeros(len(active) + 1, dtype=np.int64), EMPTY_I32, EMPTY_F32)
            self.active_tie = np.zeros(len(active), dtype=np.float32)
            self.chosen_lam = float(self.lam or FALLBACK_LAM)
            self._index()
            self.fit_seconds = time.perf_counter() - start
            return self
        self.active_tie = (
            self.tie_break * counts[active] / max(float(counts[active].max()), 1.0)
        ).astype(np.float32)
        col_of = np.full(self.n_tracks, -1, dtype=np.int64)
        col_of[active] = np.arange(len(active))
        keep = col_of[items] >= 0
        users, cols, summed = users[keep], col_of[items[keep]], summed[keep]
        values = {weighting: _weigh(summed, weighting) for weighting in weightings}
        if self.lam is not None and len(weightings) == 1:
            self.chosen_lam = float(self.lam)
        else:
            grid = (self.lam,) if self.lam is not None else self.lam_grid
            self.chosen_weighting, self.chosen_lam = self._tune(
                users, cols, values, grid, dataset.n_listeners, counts[active]
            )
        w = values[self.chosen_weighting]
        dtype = np.float64 if len(active) <= FLOAT64_MAX_ITEMS else np.float32
        gram = _gram(users, cols, w, dataset.n_listeners, len(active), dtype)
        upper = _inverse_upper(gram, self.chosen_lam)
        del gram  # overwritten in place by the inverse
        self._sparsify(upper)
        self._index()
        self.fit_seconds = time.perf_counter() - start
        logger.info(
            "itemitem: %d active items, %s weights, lam=%g, %d weights, %.1f s",
            len(active),
            self.chosen_weighting,
            self.chosen_lam,
            len(self.data),
            self.fit_seconds,
        )
        return self

    def _tune(
        self,
        users: np.ndarray,
        cols: np.ndarray,
        values: dict[str, np.ndarray],
        grid: tuple[float, ...],
        n_users: int,
        active_counts: np.ndarray,
    ) -> tuple[str, float]:
        """The weighting and ``lam`` with the best NDCG@10 on held-out items of some listeners.

        Ties go to the earlier weighting of ``WEIGHTINGS`` and the smaller ``lam``. Every
        weighting sees the same validation listeners and the same held-out items.
        """
        fallback = (next(iter(values)), FALLBACK_LAM if self.lam is None else float(self.lam))
        rng = np.random.default_rng(self.seed)
        # tune on the most popular active items only, so tuning stays cheap at scale
        n_tune = min(len(active_counts), self.tune_max_items)
        tune_cols = np.argsort(-active_counts, kind="stable")[:n_tune]
        remap = np.full(len(active_counts), -1, dtype=np.int64)
        remap[tune_cols] = np.arange(n_tune)
        per_user = np.bincount(users, minlength=n_users)
        eligible = np.flatnonzero(per_user >= MIN_TUNING_HISTORY)
        n_val = min(round(self.tune_share * len(eligible)), self.tune_max_listeners)
        if n_val < MIN_TUNING_LISTENERS:
            return fallback
        # Small data: average over disjoint folds of validation listeners, since one fold of a
        # few hundred listeners moves the choice by a grid step from seed to seed.
        folds = 1
        if n_val < self.tune_max_listeners:
            folds = max(1, min(self.tune_folds, len(eligible) // n_val))
        shuffled = rng.permutation(eligible)
        totals: dict[tuple[str, float], float] = {}
        for fold in range(folds):
            val_users = shuffled[fold * n_val : (fold + 1) * n_val]
            found = self._tune_fold(
                users, cols, values, grid, n_users, remap, n_tune, val_users, rng
            )
            for key, ndcg in found.items():
                totals[key] = totals.get(key, 0.0) + ndcg / folds
        several = len(values) > 1
        self.tuning = {
            (f"{weighting}:{lam}" if several else str(lam)): round(ndcg, 6)
            for (weighting, lam), ndcg in totals.items()
        }
        logger.info("itemitem tuning (%d fold(s) of %d listeners): %s", folds, n_val, self.tuning)
        if not totals:
            return fallback
        best = max(totals.values())
        # first weighting in WEIGHTINGS order, then the smallest lam, among the best
        for weighting in values:
            lams = [lam for (wt, lam), ndcg in totals.items() if wt == weighting and ndcg >= best]
            if lams:
                return weighting, float(min(lams))
        return fallback

    def _tune_fold(
        self,
        users: np.ndarray,
        cols: np.ndarray,
        values: dict[str, np.ndarray],
        grid: tuple[float, ...],
        n_users: int,
        remap: np.ndarray,
        n_tune: int,
        val_users: np.ndarray,
        rng: np.random.Generator,
    ) -> dict[tuple[str, float], float]:
        """Validation NDCG@10 of every (weighting, ``lam``), ``val_users`` losing some items.

        One split per fold: every weighting is scored on the same held-out items.
        """
        n_val = len(val_users)
        per_user = np.bincount(users, minlength=n_users)
        is_val = np.zeros(n_users, dtype=bool)
        is_val[val_users] = True
        # hold out tune_holdout of each validation listener's items (at least one)
        order = np.lexsort((rng.random(len(users)), users))
        u_sorted = users[order]
        starts = np.searchsorted(u_sorted, np.arange(n_users))
        rank = np.arange(len(users)) - starts[u_sorted]
        n_out = np.maximum(1, np.round(self.tune_holdout * per_user)).astype(np.int64)
        held = np.zeros(len(users), dtype=bool)
        held[order] = is_val[u_sorted] & (rank < n_out[u_sorted])

        fit_rows = ~held & (remap[cols] >= 0)
        dtype = np.float64 if n_tune <= FLOAT64_MAX_ITEMS else np.float32
        val_index = np.full(n_users, -1, dtype=np.int64)
        val_index[val_users] = np.arange(n_val)
        fed_rows = ~held & is_val[users] & (remap[cols] >= 0)
        fed = sp.csr_matrix(
            (
                np.ones(int(fed_rows.sum())),
                (val_index[users[fed_rows]], remap[cols[fed_rows]]),
            ),
            shape=(n_val, n_tune),
        )
        # held-out items outside the tuning items are misses for every lam alike
        held_cols = np.where(remap[cols] >= 0, remap[cols], -1)
        hv, hc = val_index[users[held]], held_cols[held]
        by_listener = np.argsort(hv, kind="stable")
        bounds = np.searchsorted(hv[by_listener], np.arange(1, n_val))
        heldout = np.split(hc[by_listener], bounds)
        found: dict[tuple[str, float], float] = {}
        fit_users, fit_cols = users[fit_rows], remap[cols[fit_rows]]
        for weighting, w in values.items():
            gram = _gram(fit_users, fit_cols, w[fit_rows], n_users, n_tune, dtype)
            for lam in sorted(grid):
                try:
                    weights = _dense_weights(gram.copy(), lam)
                except np.linalg.LinAlgError:
                    continue
                found[(weighting, float(lam))] = _ndcg_at_k(weights, fed, heldout, TUNING_K)
        return found

    def chosen_settings(self) -> dict[str, Any]:
        """What fit() chose (for the evaluation report)."""
        return {"weighting": self.chosen_weighting, "lam": self.chosen_lam}

    def _sparsify(self, upper: np.ndarray) -> None:
        """Keep ``k_neighbours`` weights per row (by ``keep``), sorted best first."""
        n = upper.shape[0]
        k = max(0, min(self.k_neighbours, n - 1))
        diag = np.ascontiguousarray(np.diag(upper)).astype(upper.dtype)
        neg_inv_diag = (-1.0 / diag).astype(upper.dtype)
        idx_parts: list[np.ndarray] = []
        val_parts: list[np.ndarray] = []
        for r0 in range(0, n, SPARSIFY_CHUNK_ROWS):
            r1 = min(n, r0 + SPARSIFY_CHUNK_ROWS)
            rows = _rows_of_inverse(upper, r0, r1)
            rows *= neg_inv_diag[None, :]
            rows[np.arange(r1 - r0), np.arange(r0, r1)] = 0.0  # EASE: zero diagonal
            if k == 0:
                continue
            rank_by = -np.abs(rows) if self.keep == "magnitude" else -rows
            rank_by[np.arange(r1 - r0), np.arange(r0, r1)] = np.inf  # the diagonal goes last
            top = np.argpartition(rank_by, k - 1, axis=1)[:, :k]
            vals = np.take_along_axis(rows, top, axis=1)
            order = np.argsort(-vals, axis=1, kind="stable")
            idx_parts.append(np.take_along_axis(top, order, axis=1))
            val_parts.append(np.take_along_axis(vals, order, axis=1))
        if k == 0:
            self._set_weights(np.zeros(n + 1, dtype=np.int64), EMPTY_I32, EMPTY_F32)
            return
        cols = np.concatenate(idx_parts).reshape(-1)
        vals = np.concatenate(val_parts).reshape(-1).astype(np.float32)
        nonzero = vals != 0  # zero weights carry nothing (items that never co-occur)
        counts = nonzero.reshape(n, k).sum(axis=1)
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self._set_weights(indptr, self.active[cols[nonzero]].astype(np.int32), vals[nonzero])

    def _set_weights(self, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray) -> None:
        self.indptr, self.indices, self.data = indptr, indices, data

    def _index(self) -> None:
        """Derived lookups (not persisted): track -> row, and the base score vector."""
        self._index_rows()
        self._base = np.zeros(self.n_tracks, dtype=np.float32)
        self._base[self.active] = self.active_tie

    @property
    def weights(self) -> sp.csr_matrix:
        """The sparse weights: rows are active items (``active``), columns track positions."""
        return sp.csr_matrix(
            (self.data, self.indices, self.indptr), shape=(len(self.active), self.n_tracks)
        )

    # --- serving ------------------------------------------------------------------------------
    def score(self, context: Context, candidates: np.ndarray | None = None) -> Scores:
        if self.n_tracks == 0:
            n = 0 if candidates is None else len(candidates)
            return Scores(scores=np.zeros(n, dtype=np.float32), confidence=0.0)
        _, rows = self._history_rows(context)
        scores = self._base.copy()
        if len(rows):
            _, cols, vals = self._gather(rows)
            np.add.at(scores, cols, vals)  # unbuffered: repeated columns accumulate
        return Scores(scores=take(scores, candidates), confidence=self.confidence(len(rows)))

    # --- persistence --------------------------------------------------------------------------
    def get_state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        arrays = {**self._neighbour_state(), "active_tie": self.active_tie}
        meta = {
            "name": self.name,
            "lam": self.lam,
            "lam_grid": list(self.lam_grid),
            "weighting": self.weighting,
            "min_count": self.min_count,
            "max_items": self.max_items,
            "k_neighbours": self.k_neighbours,
            "keep": self.keep,
            "tune_share": self.tune_share,
            "tune_max_listeners": self.tune_max_listeners,
            "tune_holdout": self.tune_holdout,
            "tune_folds": self.tune_folds,
            "tune_max_items": self.tune_max_items,
            "seed": self.seed,
            "history_scale": self.history_scale,
            "support_half": self.support_half,
            "tie_break": self.tie_break,
            "n_tracks": self.n_tracks,
            "n_interactions": self.n_interactions,
            "chosen_lam": self.chosen_lam,
            "chosen_weighting": self.chosen_weighting,
            "fit_seconds": self.fit_seconds,
            "tuning": self.tuning,
        }
        return arrays, meta

    @classmethod
    def from_state(cls, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> ItemItemPredictor:
        return cls(
            name=str(meta["name"]),
            lam=None if meta["lam"] is None else float(meta["lam"]),
            lam_grid=tuple(float(x) for x in meta["lam_grid"]),
            weighting=str(meta["weighting"]),
            min_count=int(meta["min_count"]),
            max_items=int(meta["max_items"]),
            k_neighbours=int(meta["k_neighbours"]),
            keep=str(meta["keep"]),
            tune_share=float(meta["tune_share"]),
            tune_max_listeners=int(meta["tune_max_listeners"]),
            tune_holdout=float(meta["tune_holdout"]),
            tune_folds=int(meta.get("tune_folds", 1)),
            tune_max_items=int(meta["tune_max_items"]),
            seed=int(meta["seed"]),
            history_scale=float(meta["history_scale"]),
            support_half=float(meta["support_half"]),
            tie_break=float(meta["tie_break"]),
            n_tracks=int(meta["n_tracks"]),
            n_interactions=int(meta["n_interactions"]),
            chosen_lam=float(meta["chosen_lam"]),
            chosen_weighting=str(meta.get("chosen_weighting", meta["weighting"])),
            fit_seconds=float(meta["fit_seconds"]),
            tuning={str(k): float(v) for k, v in meta["tuning"].items()},
            active_tie=np.asarray(arrays["active_tie"], dtype=np.float32),
            **cls._neighbour_fields(arrays),
        )
