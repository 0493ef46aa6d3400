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
