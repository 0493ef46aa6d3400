"""Calibration: a blended score -> the observed hit rate of such a score on held-out items.

Fit time (:func:`calibration_curves`) turns the tuned validation cases into monotone curves, one
per (history slice, ``CALIBRATION_RANKS`` entry); serving (:func:`hit_rate`) reads a confidence
off them. Kept apart from tuning because the curves are a separate product of the same cases:
tuning chooses the weights, calibration says how far to trust the result.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from apps.recommend.engine._common import history_of
from apps.recommend.engine.bundle.tuning import HISTORY_SLICES, ValidationCase, pool_blend, top10
from apps.recommend.engine.dataset import Context

CALIBRATION_SLICES = tuple(name for name, _, _ in HISTORY_SLICES)
#: Calibration rows per slice: the top pick (the card the site shows), then the rest of the top
#: 10. The blend scales each predictor's best track to 1, so the top score says little by
#: itself; how often the top pick is right is a fact of its own (on ML-100K 37% where a top-10
#: item with the same score hit 24% of the time).
CALIBRATION_RANKS = ("top pick", "rest of the top 10")
CALIBRATION_BINS = 10
CALIBRATION_PRIOR = 20.0


def calibration_curves(
    contexts: dict[str, list[Context]],
    cases: dict[str, list[ValidationCase]],
    slice_quality: dict[str, dict[str, float]],
    blend: Callable[[Context], np.ndarray],
) -> tuple[np.ndarray, np.ndarray] | None:
    """``calibration_x``/``_y`` rows from each slice's tuned validation cases.

    ``contexts`` and ``cases`` are per slice, in step; ``blend`` is the served blend of a
    context on the whole catalogue. ``None`` when some curve lacks data for its bins.
    """
    # Calibrate each slice on its own: blended scores are not comparable across slices (with
    # no history one predictor's head scores 1 yet hits far less often than a long history's).
    # The pools hold every predictor's head, so the blend's top 10 on a pool is, all but
    # always, its top 10 on the catalogue (a track just outside two predictors' heads could
    # beat it), with the same scores.
    curves = []
    for slice_name in CALIBRATION_SLICES:
        raw: list[np.ndarray] = []  # the top 10's blended scores per case, best first
        hits: list[np.ndarray] = []
        for context, case in zip(contexts[slice_name], cases[slice_name], strict=True):
            blended = pool_blend(case, slice_quality[slice_name])
            if blended is None:  # served by a fallback: blend the whole catalogue
                full = blend(context)
                full[history_of(context)] = -np.inf
                top = top10(full)
                raw.append(full[top])
                hits.append(np.isin(top, case.targets).astype(np.float64))
                continue
            top = top10(blended)
            raw.append(blended[top])
            hits.append(case.relevant[top].astype(np.float64))
        first_raw = np.array([r[0] for r in raw if len(r)])
        first_hits = np.array([h[0] for h in hits if len(h)])
        rest = monotone_bins(
            np.concatenate([r[1:] for r in raw]), np.concatenate([h[1:] for h in hits])
        )
        top_pick = monotone_bins(first_raw, first_hits)
        # too few cases for a top-pick curve (small data): the rest of the top 10's
        curves.append(top_pick if len(top_pick[0]) == CALIBRATION_BINS else rest)
        curves.append(rest)
    if all(len(xs) == CALIBRATION_BINS for xs, _ in curves):
        return np.stack([xs for xs, _ in curves]), np.stack([ys for _, ys in curves])
    return None


def hit_rate(
    raw: float,
    calibration_x: np.ndarray,
    calibration_y: np.ndarray,
    slice_name: str,
    *,
    top_pick: bool,
) -> float:
    """Observed hit rate of blended score ``raw`` in ``slice_name`` (0-1, monotone).

    Per history-length slice two curves (rows of ``calibration_x``/``_y``, in
    ``CALIBRATION_RANKS`` order): one for the top pick, one for the rest of the top 10.
    """
    rows = len(CALIBRATION_SLICES) * len(CALIBRATION_RANKS)
    if calibration_x.ndim != 2 or calibration_x.shape[0] != rows:
        return float(1.0 / (1.0 + np.exp(-(raw - 3.0))))  # uncalibrated: a squashed score
    slice_row = CALIBRATION_SLICES.index(slice_name)
    row = slice_row * len(CALIBRATION_RANKS) + (0 if top_pick else 1)
    return float(np.interp(raw, calibration_x[row], calibration_y[row]))


def monotone_bins(raw: np.ndarray, hits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Equal-count bins of the blended score -> hit rate, made non-decreasing (isotonic)."""
    if len(raw) < CALIBRATION_BINS * 5:
        return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.float32)
    order = np.argsort(raw)
    chunks = np.array_split(order, CALIBRATION_BINS)
    xs = np.array([raw[c].mean() for c in chunks], dtype=np.float64)
    # Shrink each bin toward the overall hit rate (CALIBRATION_PRIOR pseudo-observations), so a
    # bin that saw no hit says "rarely", not "never".
    overall = float(hits.mean())
    ys = np.array(
        [
            (hits[c].sum() + CALIBRATION_PRIOR * overall) / (len(c) + CALIBRATION_PRIOR)
            for c in chunks
        ],
        dtype=np.float64,
    )
    weights = np.array([len(c) for c in chunks], dtype=np.float64)
    ys = _pool_adjacent_violators(ys, weights)
    return xs.astype(np.float32), np.clip(ys, 0.0, 1.0).astype(np.float32)


def _pool_adjacent_violators(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    blocks: list[list[float]] = []  # [value, weight, count]
    for value, weight in zip(values.tolist(), weights.tolist(), strict=True):
        blocks.append([value, weight, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2, c2 = blocks.pop()
            v1, w1, c1 = blocks.pop()
            blocks.append([(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, c1 + c2])
    out: list[float] = []
    for value, _, count in blocks:
        out.extend([value] * int(count))
    return np.array(out)
