"""Small helpers shared by the predictors (no Django, no torch)."""

from __future__ import annotations

import math

import numpy as np

from apps.recommend.engine.dataset import Context, Dataset

#: Upper bounds of the age bands: <18, 18-24, 25-34, 35-44, 45-54, 55-64, 65+.
AGE_BAND_EDGES: tuple[float, ...] = (18, 25, 35, 45, 55, 65)
N_AGE_BANDS = len(AGE_BAND_EDGES) + 1


def age_band(age: float) -> int:
    """The age band index of ``age``; -1 when unknown."""
    if age is None or not math.isfinite(age) or age <= 0:
        return -1
    return int(np.searchsorted(np.asarray(AGE_BAND_EDGES), age, side="right"))


def age_bands(ages: np.ndarray) -> np.ndarray:
    """Vectorised :func:`age_band`."""
    ages = np.asarray(ages, dtype=np.float64)
    bands = np.searchsorted(np.asarray(AGE_BAND_EDGES), np.nan_to_num(ages, nan=0.0), side="right")
    return np.where(np.isfinite(ages) & (ages > 0), bands, -1).astype(np.int64)


def norm_str(value: object) -> str:
    return str(value).strip().lower() if value is not None else ""


def prior_distribution(dataset_or_pop: Dataset | np.ndarray, n_tracks: int) -> np.ndarray:
    """The catalogue prior (``TrackFeatures.popularity``) as a distribution summing to 1.

    Log-damped so that a handful of viral tracks do not take all the mass; uniform when the
    catalogue has no popularity at all.
    """
    if isinstance(dataset_or_pop, Dataset):
        pop = (
            dataset_or_pop.tracks.popularity
            if dataset_or_pop.tracks is not None
            else np.zeros(n_tracks, dtype=np.float32)
        )
    else:
        pop = dataset_or_pop
    pop = np.log1p(np.maximum(np.nan_to_num(np.asarray(pop, dtype=np.float64)), 0.0))
    total = pop.sum()
    if total <= 0:
        return np.full(n_tracks, 1.0 / max(1, n_tracks), dtype=np.float64)
    return pop / total


def distinct_pairs(dataset: Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (listener, track) pairs and the sum of their interactions' weights."""
    if dataset.n_interactions == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.copy(), np.zeros(0, dtype=np.float64)
    key = dataset.user.astype(np.int64) * max(dataset.n_tracks, 1) + dataset.item
    uniq, inverse = np.unique(key, return_inverse=True)
    summed = np.bincount(inverse, weights=dataset.weight.astype(np.float64), minlength=len(uniq))
    users, items = np.divmod(uniq, max(dataset.n_tracks, 1))
    return users, items, summed


def ndcg_of_hits(hits: np.ndarray, n_relevant: int, k: int = 10) -> float:
    """Binary NDCG@k of one ranked list: ``hits`` marks which of its first entries are relevant.

    The ideal list puts ``min(k, n_relevant)`` hits on top. Every predictor's own tuning and the
    blend's use this one definition, so they optimise the metric the evaluation reports.
    """
    hits = np.asarray(hits, dtype=bool)[:k]
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = float(discount[: min(k, n_relevant)].sum())
    return float(discount[: len(hits)][hits].sum()) / ideal if ideal > 0 else 0.0


def listener_normalised_weights(dataset: Dataset) -> np.ndarray:
    """Each interaction's weight divided by its listener's total, so every listener counts once."""
    totals = np.bincount(dataset.user, weights=dataset.weight, minlength=dataset.n_listeners)
    return (dataset.weight / np.maximum(totals[dataset.user], 1e-12)).astype(np.float64)


def history_of(context: Context) -> np.ndarray:
    return np.asarray(context.history, dtype=np.int64).reshape(-1)


def take(scores: np.ndarray, candidates: np.ndarray | None) -> np.ndarray:
    return scores if candidates is None else scores[np.asarray(candidates, dtype=np.int64)]


def saturating(x: float, half: float) -> float:
    """``x / (x + half)``: 0 at 0, 0.5 at ``half``, approaching 1."""
    return float(x / (x + half)) if x > 0 else 0.0


#: Which items of a validation listener are hidden: the newest (the next song) or random ones.
HOLDOUTS = ("latest", "random")


def hold_out_items(
    dataset: Dataset,
    rng: np.random.Generator,
    *,
    how: str = "latest",
    share: float,
    max_listeners: int,
    min_listeners: int = 10,
    min_history: int = 3,
) -> tuple[Dataset, list[Context], list[np.ndarray]] | None:
    """Hide 20% of the items (at least one) of some listeners: their latest, or random ones.

    ``share`` of the listeners with at least ``min_history`` interactions (between
    ``min_listeners`` and ``max_listeners``) lose items; everyone else keeps all of theirs, so
    a share well below 1 leaves the present visible. Returns the training data without the
    hidden items, each chosen listener's context (the shown items, oldest first, and their
    demographics) and the hidden tracks; ``None`` when fewer than ``min_listeners`` qualify.
    """
    if how not in HOLDOUTS:
        raise ValueError(f"holdout must be one of {HOLDOUTS}, got {how!r}")
    counts = np.bincount(dataset.user, minlength=dataset.n_listeners)
    eligible = np.flatnonzero(counts >= min_history)
    if len(eligible) < min_listeners:
        return None
    size = min(max_listeners, max(min_listeners, int(share * len(eligible))))
    chosen = rng.choice(eligible, size=size, replace=False)
    keep = np.ones(dataset.n_interactions, dtype=bool)
    contexts: list[Context] = []
    targets: list[np.ndarray] = []
    order = np.lexsort((dataset.timestamp, dataset.user))
    user_sorted = dataset.user[order]
    starts = np.searchsorted(user_sorted, chosen)
    ends = np.searchsorted(user_sorted, chosen, side="right")
    lf = dataset.listeners
    for u, start, end in zip(chosen.tolist(), starts.tolist(), ends.tolist(), strict=True):
        rows = order[start:end]
        n_hidden = max(1, len(rows) // 5)
        if how == "random":
            is_hidden = np.zeros(len(rows), dtype=bool)
            is_hidden[rng.choice(len(rows), size=n_hidden, replace=False)] = True
            hidden, shown = rows[is_hidden], rows[~is_hidden]  # shown stays oldest first
        else:
            hidden, shown = rows[-n_hidden:], rows[:-n_hidden]
        keep[hidden] = False
        contexts.append(
            Context(
                history=dataset.item[shown].astype(np.int64),
                age=float(lf.age[u]) if lf is not None else float("nan"),
                gender=str(lf.gender[u]) if lf is not None else "",
                country=str(lf.country[u]) if lf is not None else "",
                occupation=str(lf.occupation[u]) if lf is not None else "",
            )
        )
        targets.append(np.unique(dataset.item[hidden]))
    train = Dataset(
        listener_ids=dataset.listener_ids,
        track_ids=dataset.track_ids,
        user=dataset.user[keep],
        item=dataset.item[keep],
        weight=dataset.weight[keep],
        timestamp=dataset.timestamp[keep],
        listeners=dataset.listeners,
        tracks=dataset.tracks,
    )
    return train, contexts, targets
