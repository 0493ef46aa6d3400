"""Strong, simple baselines on the same :class:`Predictor` interface as our own predictors.

All of them treat every training interaction as a binary positive. Scores of the
collaborative baselines get a tiny global-popularity term so that ties (and an empty
history) are broken by popularity instead of by catalog position.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import scipy.sparse as sp

from apps.recommend.engine.dataset import Context, Dataset, Scores

logger = logging.getLogger(__name__)

#: Weight of the popularity tie-breaker, far below any real score difference.
TIE_BREAK = 1e-6
#: EASE inverts an items x items matrix: past this it needs too much memory and time.
EASE_MAX_ITEMS = 20_000
#: History length at which a history-based baseline is ~63% confident (1 - 1/e).
CONFIDENCE_HISTORY_SCALE = 10.0
AGE_BUCKET_EDGES = (18, 25, 35, 45, 55)


def interaction_matrix(dataset: Dataset) -> sp.csr_matrix:
    """Binary listeners x tracks matrix of the dataset's interactions."""
    data = np.ones(dataset.n_interactions, dtype=np.float32)
    matrix = sp.csr_matrix(
        (data, (dataset.user, dataset.item)), shape=(dataset.n_listeners, dataset.n_tracks)
    )
    matrix.data[:] = 1.0  # duplicates were summed
    return matrix


def users_per_item(dataset: Dataset) -> np.ndarray:
    return np.asarray(interaction_matrix(dataset).sum(axis=0)).ravel()


def _select(scores: np.ndarray, candidates: np.ndarray | None) -> np.ndarray:
    return scores if candidates is None else scores[candidates]


def _history_confidence(history: np.ndarray) -> float:
    return float(1.0 - math.exp(-len(history) / CONFIDENCE_HISTORY_SCALE))


def _history_vector(history: np.ndarray, n_items: int) -> np.ndarray:
    vec = np.zeros(n_items, dtype=np.float64)
    vec[np.asarray(history, dtype=np.int64)] = 1.0
    return vec


class _PopularityTieBreak:
    """Shared state: the normalised global popularity used to break ties."""

    _tie: np.ndarray

    def _fit_tie_break(self, dataset: Dataset) -> None:
        counts = users_per_item(dataset)
        self._tie = TIE_BREAK * counts / max(float(counts.max(initial=0.0)), 1.0)


class GlobalPopularity:
    """Every listener gets the items the most training listeners interacted with."""

    name = "popularity"

    def __init__(self) -> None:
        self._scores = np.zeros(0)

    def fit(self, dataset: Dataset) -> GlobalPopularity:
        self._scores = users_per_item(dataset).astype(np.float64)
        return self

    def score(self, context: Context, candidates: np.ndarray | None = None) -> Scores:
        # It knows nothing about the listener: low, constant confidence.
        return Scores(scores=_select(self._scores.copy(), candidates), confidence=0.2)


def age_bucket(age: float) -> int:
    """0 = unknown, then one bucket per ``AGE_BUCKET_EDGES`` interval."""
    if not math.isfinite(age) or age <= 0:
        return 0
    return 1 + int(np.searchsorted(AGE_BUCKET_EDGES, age, side="right"))


class DemographicPopularity:
    """Popularity within the listener's demographic groups, smoothed toward global popularity.

    For each known attribute (gender, age bucket, occupation, country) the item distribution of
    the listener's group is ``(count_g(i) + beta * p(i)) / (N_g + beta)``; the score is the mean
    over the known attributes, and plain popularity when none is known.
    """

    name = "demographic-popularity"
    ATTRIBUTES = ("gender", "age", "occupation", "country")

    def __init__(self, beta: float = 10.0) -> None:
        self.beta = beta
        self._global = np.zeros(0)
        self._groups: dict[str, dict[Any, tuple[sp.csr_matrix, int]]] = {}

    @staticmethod
    def _key(attribute: str, context: Context) -> Any:
        if attribute == "age":
            bucket = age_bucket(context.age)
            return bucket if bucket else None
        value = getattr(context, attribute)
        return value or None

    def fit(self, dataset: Dataset) -> DemographicPopularity:
        matrix = interaction_matrix(dataset)
        active = np.asarray(matrix.sum(axis=1)).ravel() > 0
        n_active = max(int(active.sum()), 1)
        self._global = np.asarray(matrix.sum(axis=0)).ravel() / n_active
        self._groups = {}
        people = dataset.listeners
        if people is None:
            return self
        for attribute in self.ATTRIBUTES:
            if attribute == "age":
                labels = np.array([age_bucket(float(a)) or None for a in people.age], dtype=object)
            else:
                labels = np.array([v or None for v in getattr(people, attribute)], dtype=object)
            groups: dict[Any, tuple[sp.csr_matrix, int]] = {}
            for value in {v for v in labels[active] if v is not None}:
                members = np.flatnonzero((labels == value) & active)
                counts = sp.csr_matrix(matrix[members].sum(axis=0))
                groups[value] = (counts, len(members))
            self._groups[attribute] = groups
        return self

    def score(self, context: Context, candidates: np.ndarray | None = None) -> Scores:
        parts = []
        shares = []
        for attribute, groups in self._groups.items():
            key = self._key(attribute, context)
            if key is None or key not in groups:
                continue
            counts, size = groups[key]
            dense = counts.toarray().ravel()
            parts.append((dense + self.beta * self._global) / (size + self.beta))
            shares.append(size / (size + self.beta))
        if not parts:
            return Scores(scores=_select(self._global.copy(), candidates), confidence=0.2)
        scores = np.mean(parts, axis=0)
        return Scores(
            scores=_select(scores, candidates), confidence=0.2 + 0.3 * float(np.mean(shares))
        )


class ItemKNN(_PopularityTieBreak):
    """Item-based nearest neighbours with cosine similarity, top ``k`` neighbours per item."""

    name = "itemknn"
    CHUNK = 1024

    def __init__(self, k: int = 100) -> None:
        self.k = k
        self._sim = sp.csr_matrix((0, 0))

    def fit(self, dataset: Dataset) -> ItemKNN:
        self._fit_tie_break(dataset)
        x = interaction_matrix(dataset).tocsc().astype(np.float64)
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0)).ravel())
        norms[norms == 0] = 1.0
        xn = (x @ sp.diags(1.0 / norms)).tocsc()
        xt = xn.T.tocsr()
        n = dataset.n_tracks
        k = min(self.k, max(n - 1, 1))
        rows, cols, vals = [], [], []
        for start in range(0, n, self.CHUNK):
            stop = min(start + self.CHUNK, n)
            block = (xt[start:stop] @ xn).toarray()
            block[np.arange(stop - start), np.arange(start, stop)] = 0.0  # no self-similarity
            top = np.argpartition(-block, k - 1, axis=1)[:, :k]
            top_vals = np.take_along_axis(block, top, axis=1)
            keep = top_vals > 0
            rows.append(np.repeat(np.arange(start, stop), k)[keep.ravel()])
            cols.append(top.ravel()[keep.ravel()])
            vals.append(top_vals.ravel()[keep.ravel()])
        # Row i holds i's neighbours; a listener's score for j sums sim(i, j) over history i.
        self._sim = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n)
        )
        return self

    def score(self, context: Context, candidates: np.ndarray | None = None) -> Scores:
        history = np.asarray(context.history, dtype=np.int64)
        scores = np.asarray(self._sim[history].sum(axis=0)).ravel() + self._tie
        return Scores(scores=_select(scores, candidates), confidence=_history_confidence(history))


class EASE(_PopularityTieBreak):
    """Steck 2019, "Embarrassingly Shallow Autoencoders": closed-form item-item weights.

    ``B = I - P / diag(P)`` with ``P = (X^T X + lambda I)^-1`` and a zero diagonal.
    """

    name = "ease"

    def __init__(self, lam: float = 500.0) -> None:
        self.lam = lam
        self._weights = np.zeros((0, 0))

    def fit(self, dataset: Dataset) -> EASE:
        if dataset.n_tracks > EASE_MAX_ITEMS:
            raise ValueError(f"EASE needs <= {EASE_MAX_ITEMS} items, got {dataset.n_tracks}")
        self._fit_tie_break(dataset)
        x = interaction_matrix(dataset)
        gram = (x.T @ x).toarray().astype(np.float64)
        gram[np.diag_indices_from(gram)] += self.lam
        inverse = np.linalg.inv(gram)
        weights = -inverse / np.diag(inverse)
        np.fill_diagonal(weights, 0.0)
        self._weights = weights
        return self

    def score(self, context: Context, candidates: np.ndarray | None = None) -> Scores:
        history = np.asarray(context.history, dtype=np.int64)
        scores = self._weights[history].sum(axis=0) + self._tie
        return Scores(scores=_select(scores, candidates), confidence=_history_confidence(history))


class IALS(_PopularityTieBreak):
    """Implicit ALS (Hu, Koren & Volinsky 2008) from the ``implicit`` library.

    A held-out listener is folded in with implicit's ``recalculate_user`` (one exact
    least-squares step against the fixed item factors), so no retraining is needed.
    """

    name = "ials"

    def __init__(
        self,
        factors: int = 64,
        regularization: float = 0.1,
        alpha: float = 10.0,
        iterations: int = 15,
        seed: int = 0,
    ) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.seed = seed
        self._model: Any = None
        self._n_items = 0

    def fit(self, dataset: Dataset) -> IALS:
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        self._fit_tie_break(dataset)
        self._n_items = dataset.n_tracks
        # implicit runs its own threads; BLAS threads on top only oversubscribe the CPU.
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                random_state=self.seed,
                num_threads=1,
            )
            model.fit(interaction_matrix(dataset), show_progress=False)
        self._model = model
        return self

    def score(self, context: Context, candidates: np.ndarray | None = None) -> Scores:
        history = np.unique(np.asarray(context.history, dtype=np.int64))
        row = sp.csr_matrix(
            (
                np.ones(len(history), dtype=np.float32),
                (np.zeros(len(history), dtype=np.int64), history),
            ),
            shape=(1, self._n_items),
        )
        if len(history):
            factors = self._model.recalculate_user(0, row)
            scores = np.asarray(self._model.item_factors @ factors, dtype=np.float64)
        else:
            scores = np.zeros(self._n_items)
        scores = scores + self._tie
        return Scores(scores=_select(scores, candidates), confidence=_history_confidence(history))
