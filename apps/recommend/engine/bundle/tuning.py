"""Blend tuning: validation cases per history slice, and the greedy search for blend weights.

At fit time some listeners' latest (or random) items are hidden (:func:`hold_out_validation`).
Each history-length slice of ``HISTORY_SLICES`` gets its own validation cases
(:func:`slice_cases`, several windows of a short history per listener), each scored once on a
candidate pool (:func:`validation_case`). :func:`tune_slice` then picks the slice's blend
weights by coordinate ascent, keeping a change only on a clear per-listener gain
(:func:`clear_gain`). The pools are blended exactly as serving blends the catalogue
(:func:`pool_blend`), so what is tuned here is what is served.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np

from apps.recommend.engine._common import history_of, hold_out_items, ndcg_of_hits
from apps.recommend.engine.bundle.ranking import fallback_order, standardise
from apps.recommend.engine.dataset import Context, Dataset

# Simplest first: a more complex predictor must clearly beat a simpler one to lead a blend.
SIMPLICITY = ("popularity", "demographic", "cooccurrence", "itemitem", "model")
VALIDATION_LISTENERS = 300
VALIDATION_CANDIDATES = 300
VALIDATION_SHARE = 0.3
#: History-length slices, each with its own blend weights and calibration: (name, the shortest
#: history in it, how many items its validation contexts are fed; None = all shown items).
#: Which predictor knows best changes fastest at the very start: with one item EASE-style
#: neighbours are noisy and co-occurrence or popularity win, with many EASE wins.
HISTORY_SLICES: tuple[tuple[str, int, int | None], ...] = (
    ("cold", 0, 0),
    ("one", 1, 1),
    ("short", 3, 3),
    ("warm", 5, None),
)
#: A validation listener gives a slice fed ``n`` items up to this many cases: their shown items
#: ``0:n``, ``1:n+1``, ... A short history carries little signal per case, and on a few hundred
#: listeners the choice between predictors was a coin toss; more cases per listener (averaged
#: per listener before comparing, since they share their held-out items) steady it, for about
#: 20 s more training at 2.4 M interactions (docs/benchmarks.md).
WINDOWS_PER_LISTENER = 6
# Weights tried for each predictor when tuning the blend on held-out items (the leader starts
# at 1), the least NDCG@10 gain (absolute, and in standard errors) that changes a weight, and
# the most coordinate-ascent passes.
BLEND_LEVELS = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0)
MIN_BLEND_GAIN = 0.002
BLEND_GAIN_SE = 2.0
BLEND_PASSES = 3
VALIDATION_MIN_HISTORY = 3


@dataclass
class ValidationCase:
    """One validation context: standardised scores on a candidate pool, and what was hidden."""

    vectors: dict[str, np.ndarray]
    confidences: dict[str, float]
    relevant: np.ndarray  # bool per pool entry
    alone: dict[str, float]  # NDCG@10 of each predictor alone
    targets: np.ndarray  # the hidden track positions


class SliceTuning(NamedTuple):
    """What :func:`tune_slice` found for one history slice."""

    quality: dict[str, float]  # blend weights, the largest 1
    confidence_scale: dict[str, float]  # 1 / each predictor's mean confidence on the cases
    # NDCG@10 of each predictor alone and, once a blend was tuned, of the blend ("ensemble")
    ndcg10: dict[str, float]


def hold_out_validation(
    dataset: Dataset, rng: np.random.Generator, how: str
) -> tuple[Dataset, list[Context], list[np.ndarray]] | None:
    """The training data and validation listeners' shown contexts and hidden items.

    ``how`` is the bundle's ``holdout`` ("latest" or "random"); ``None`` when too few listeners
    have enough history to validate on.
    """
    return hold_out_items(
        dataset,
        rng,
        how=how,
        share=VALIDATION_SHARE,
        max_listeners=VALIDATION_LISTENERS,
        min_history=VALIDATION_MIN_HISTORY,
    )


def slice_cases(
    contexts: list[Context], targets: list[np.ndarray], fed: int | None
) -> tuple[list[Context], list[np.ndarray], np.ndarray]:
    """Validation cases of a slice fed ``fed`` items (``None``: all shown), and whose they are.

    Fed ``n`` items, a listener gives one case per window ``i:i+n`` of their shown items, up to
    ``WINDOWS_PER_LISTENER`` (always the first); fed none or all, one case.
    """
    cases: list[Context] = []
    case_targets: list[np.ndarray] = []
    listener: list[int] = []
    for number, (context, target) in enumerate(zip(contexts, targets, strict=True)):
        if fed is None:
            windows = [context]
        else:
            n_windows = 1 if fed == 0 else max(1, len(context.history) - fed + 1)
            windows = [
                replace(context, history=context.history[start : start + fed])
                for start in range(min(n_windows, WINDOWS_PER_LISTENER))
            ]
        cases.extend(windows)
        case_targets.extend([target] * len(windows))
        listener.extend([number] * len(windows))
    return cases, case_targets, np.asarray(listener, dtype=np.int64)


def validation_case(
    predictors: dict[str, Any], context: Context, target: np.ndarray
) -> ValidationCase:
    """Score ``context`` with every predictor, kept on a pool of each one's head + ``target``."""
    history = history_of(context)
    vectors: dict[str, np.ndarray] = {}
    confidences: dict[str, float] = {}
    candidates: list[np.ndarray] = [target]
    for name, predictor in predictors.items():
        result = predictor.score(context)
        vector = standardise(result.scores)
        vector[history] = -np.inf
        vectors[name] = vector
        confidences[name] = float(result.confidence)
        k = min(VALIDATION_CANDIDATES, len(vector))
        candidates.append(np.argpartition(-vector, k - 1)[:k])
    pool = np.unique(np.concatenate(candidates))
    pool = pool[np.isin(pool, history, invert=True)]
    relevant = np.isin(pool, target)
    on_pool = {name: v[pool] for name, v in vectors.items()}
    return ValidationCase(
        vectors=on_pool,
        confidences=confidences,
        relevant=relevant,
        # each predictor's own top 10 lies in the pool, which holds its head
        alone={name: pool_ndcg(v, relevant, len(target)) for name, v in on_pool.items()},
        targets=target,
    )


def pool_blend(case: ValidationCase, quality: dict[str, float]) -> np.ndarray | None:
    """The served blend (weights ``confidence x quality``, normalised) on the case's pool.

    With no weighted predictor, serving's fallback: the first predictor of
    ``fallback_order`` whose scores are not all equal. ``None`` when there is none.
    """
    weights = {n: case.confidences[n] * quality.get(n, 0.0) for n in case.vectors}
    total = sum(weights.values())
    if total <= 0:
        for name in fallback_order(quality):
            vector = case.vectors.get(name)
            finite = vector[np.isfinite(vector)] if vector is not None else vector
            if finite is not None and len(finite) and float(finite.max() - finite.min()) > 0:
                return vector
        return None
    blended = np.zeros(len(case.relevant), dtype=np.float32)
    for name, weight in weights.items():
        if weight > 0:
            blended += (weight / total) * case.vectors[name]
    return blended


def top10(values: np.ndarray) -> np.ndarray:
    """Positions (in a pool or the catalogue) of the 10 highest ``values``, best first."""
    k = min(10, len(values))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    top = np.argpartition(-values, k - 1)[:k]
    return top[np.argsort(-values[top], kind="stable")]


def pool_ndcg(values: np.ndarray, relevant: np.ndarray, n_relevant: int) -> float:
    """Binary NDCG@10 of ranking a pool by ``values`` (``relevant``: bool per pool entry)."""
    return ndcg_of_hits(relevant[top10(values)], n_relevant)


def _blend_gains(cases: list[ValidationCase], quality: dict[str, float]) -> np.ndarray:
    """NDCG@10 of the blend with weights ``quality``, per validation case."""
    gains = []
    for case in cases:
        blended = pool_blend(case, quality)
        gains.append(
            0.0 if blended is None else pool_ndcg(blended, case.relevant, len(case.targets))
        )
    return np.asarray(gains, dtype=np.float64)


def per_listener(gains: np.ndarray, listener: np.ndarray) -> np.ndarray:
    """Mean gain of each listener's cases (``listener`` numbers them 0..n-1)."""
    if len(gains) == 0:
        return gains
    counts = np.bincount(listener)
    return np.bincount(listener, weights=gains)[counts > 0] / counts[counts > 0]


def clear_gain(trial: np.ndarray, current: np.ndarray) -> bool:
    """Is ``trial`` better than ``current`` by more than noise (paired, per listener)?

    The mean per-listener gain must reach ``MIN_BLEND_GAIN`` and ``BLEND_GAIN_SE`` standard
    errors of the per-listener differences: on a few hundred listeners a smaller gain is as
    likely to be luck of the draw as a better blend.
    """
    if len(trial) == 0:
        return False
    diff = trial - current
    mean = float(diff.mean())
    se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0
    return mean > max(MIN_BLEND_GAIN, BLEND_GAIN_SE * se)


def tune_slice(names: list[str], cases: list[ValidationCase], listener: np.ndarray) -> SliceTuning:
    """Blend weights for one slice, and NDCG@10 of each predictor alone and of the blend.

    Only predictors that speak in this slice (some confidence > 0) take part. The blend
    starts as one of them alone: the simplest (``SIMPLICITY``) unless a more complex one is
    clearly better alone on these listeners. Coordinate ascent then tries each
    predictor at each weight of ``BLEND_LEVELS`` (relative to the others) and keeps a change
    only when the blend's NDCG@10 on the held-out items rises clearly (``clear_gain``):
    with a few hundred validation listeners small gains are mostly noise, and a blend that
    only fits noise would lose to its best member on new listeners. The blend is scored on
    candidate sets (each predictor's top ``VALIDATION_CANDIDATES`` plus the targets), which
    ranks like the full catalogue at a fraction of the memory. ``listener`` numbers the
    validation listener of each case; gains are averaged per listener before comparing.
    The cases' confidences are rescaled in place (``confidence_scale``).
    """
    scale = {}
    speaking = []  # predictors with something to say in this slice (confidence > 0)
    for name in names:
        mean = float(np.mean([case.confidences[name] for case in cases])) if cases else 0.0
        scale[name] = 1.0 / mean if mean > 0 else 1.0
        if mean > 0:
            speaking.append(name)
    for case in cases:
        case.confidences = {n: c * scale[n] for n, c in case.confidences.items()}
    alone_gains = {
        n: per_listener(np.array([case.alone[n] for case in cases]), listener) for n in names
    }
    # per listener, like the blend's score below
    alone = {
        name: float(gains.mean()) if len(gains) else 0.0 for name, gains in alone_gains.items()
    }
    best = max((alone[name] for name in speaking), default=0.0)
    if best <= 0:
        return SliceTuning(dict.fromkeys(names, 1.0), scale, alone)
    # The simplest predictor leads unless a more complex one is clearly better alone.
    by_simplicity = sorted(
        speaking, key=lambda n: SIMPLICITY.index(n) if n in SIMPLICITY else len(SIMPLICITY)
    )
    leader = by_simplicity[0]
    for name in by_simplicity[1:]:
        if clear_gain(alone_gains[name], alone_gains[leader]):
            leader = name
    quality = {name: 1.0 if name == leader else 0.0 for name in names}
    gains = per_listener(_blend_gains(cases, quality), listener)
    for _ in range(BLEND_PASSES):
        changed = False
        for name in speaking:
            for level in BLEND_LEVELS:
                trial = {**quality, name: level}
                if max(trial.values()) <= 0 or trial == quality:
                    continue
                trial_gains = per_listener(_blend_gains(cases, trial), listener)
                if clear_gain(trial_gains, gains):
                    quality, gains, changed = trial, trial_gains, True
        if not changed:
            break
    top = max(quality.values())
    score = float(gains.mean()) if len(gains) else 0.0
    return SliceTuning(
        {name: value / top for name, value in quality.items()}, scale, {**alone, "ensemble": score}
    )
