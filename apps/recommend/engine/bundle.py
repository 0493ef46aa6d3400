"""The served engine: our predictors blended by confidence, with persistence.

:class:`EngineBundle` is itself a predictor (``fit``/``score``), so offline evaluation measures
exactly what the website serves. Per request it:

1. asks every predictor for a score vector over all tracks and a confidence for this listener;
2. standardises each vector (z-scores over the catalogue, so scales are comparable) and blends
   them with weights ``confidence x quality``, where ``quality`` is each predictor's measured
   NDCG@10 on held-out items at fit time (a predictor that loses offline is weighted down);
3. falls back to one predictor alone (the slice's most trusted, then model -> item-item ->
   co-occurrence -> demographic -> popularity) when none has weight, so the answer is never
   empty;
4. excludes the history, caps tracks per artist (at most 2 in any block of 10), and attaches a
   calibrated confidence (the observed hit rate of that blended score on held-out items), an
   explanation and each predictor's share.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from apps.recommend.engine._common import history_of, hold_out_items
from apps.recommend.engine.dataset import Context, Dataset, Scores

logger = logging.getLogger(__name__)

# 2: four history slices (four calibration rows); 3: the co-occurrence predictor, and per slice
# a calibration row for the top pick and one for the rest of the top 10
FORMAT_VERSION = 3
ARTIST_CAP = 2  # tracks per artist in any block of ARTIST_BLOCK results
ARTIST_BLOCK = 10
# Simplest first: a more complex predictor must clearly beat a simpler one to lead a blend.
SIMPLICITY = ("popularity", "demographic", "cooccurrence", "itemitem", "model")
# Fallback order when no predictor has weight for a listener, after the slice's own
# predictors (see _fallback_order).
FALLBACK_ORDER = ("model", "itemitem", "cooccurrence", "demographic", "popularity")
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
CALIBRATION_SLICES = tuple(name for name, _, _ in HISTORY_SLICES)
#: Calibration rows per slice: the top pick (the card the site shows), then the rest of the top
#: 10. The blend scales each predictor's best track to 1, so the top score says little by
#: itself; how often the top pick is right is a fact of its own (on ML-100K 37% where a top-10
#: item with the same score hit 24% of the time).
CALIBRATION_RANKS = ("top pick", "rest of the top 10")
#: Refit every predictor on all data after tuning when validation hid at least this share of
#: the interactions; below it the refit would cost a second training for almost no data.
REFIT_MIN_HELDOUT_SHARE = 0.01
# Weights tried for each predictor when tuning the blend on held-out items (the leader starts
# at 1), the least NDCG@10 gain (absolute, and in standard errors) that changes a weight, and
# the most coordinate-ascent passes.
BLEND_LEVELS = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0)
MIN_BLEND_GAIN = 0.002
BLEND_GAIN_SE = 2.0
BLEND_PASSES = 3
VALIDATION_MIN_HISTORY = 3
CALIBRATION_BINS = 10
CALIBRATION_PRIOR = 20.0
REASON_DEMOGRAPHIC = "Popular with listeners like you"


@dataclass
class _Case:
    """One validation context: standardised scores on a candidate pool, and what was hidden."""

    vectors: dict[str, np.ndarray]
    confidences: dict[str, float]
    relevant: np.ndarray  # bool per pool entry
    alone: dict[str, float]  # NDCG@10 of each predictor alone
    targets: np.ndarray  # the hidden track positions


def _fallback_order(quality: dict[str, float]) -> list[str]:
    """Who answers alone when no predictor has weight for a listener.

    The slice's own predictors first, by weight, then ``FALLBACK_ORDER``: a listener whose only
    song nobody else has gets what the slice trusts most, e.g. popularity where the blend leads
    with co-occurrence, not a predictor the tuning switched off there.
    """
    weighted = sorted((n for n, q in quality.items() if q > 0), key=lambda n: -quality[n])
    return [*weighted, *(n for n in FALLBACK_ORDER if n not in weighted)]


def _pool_blend(case: _Case, quality: dict[str, float]) -> np.ndarray | None:
    """The served blend (weights ``confidence x quality``, normalised) on the case's pool.

    With no weighted predictor, serving's fallback: the first predictor of
    ``_fallback_order`` whose scores are not all equal. ``None`` when there is none.
    """
    weights = {n: case.confidences[n] * quality.get(n, 0.0) for n in case.vectors}
    total = sum(weights.values())
    if total <= 0:
        for name in _fallback_order(quality):
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


def _top10(values: np.ndarray) -> np.ndarray:
    """Positions (in a pool or the catalogue) of the 10 highest ``values``, best first."""
    k = min(10, len(values))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    top = np.argpartition(-values, k - 1)[:k]
    return top[np.argsort(-values[top], kind="stable")]


def _pool_ndcg(values: np.ndarray, relevant: np.ndarray, n_relevant: int) -> float:
    """Binary NDCG@10 of ranking a pool by ``values`` (``relevant``: bool per pool entry)."""
    top = _top10(values)
    dcg = float(np.sum(relevant[top] / np.log2(np.arange(2, len(top) + 2))))
    ideal = float(np.sum(1.0 / np.log2(np.arange(2, min(10, n_relevant) + 2))))
    return dcg / ideal if ideal > 0 else 0.0


def _blend_gains(cases: list[_Case], quality: dict[str, float]) -> np.ndarray:
    """NDCG@10 of the blend with weights ``quality``, per validation case."""
    gains = []
    for case in cases:
        blended = _pool_blend(case, quality)
        gains.append(
            0.0 if blended is None else _pool_ndcg(blended, case.relevant, len(case.targets))
        )
    return np.asarray(gains, dtype=np.float64)


def _per_listener(gains: np.ndarray, listener: np.ndarray) -> np.ndarray:
    """Mean gain of each listener's cases (``listener`` numbers them 0..n-1)."""
    if len(gains) == 0:
        return gains
    counts = np.bincount(listener)
    return np.bincount(listener, weights=gains)[counts > 0] / counts[counts > 0]


def _clear_gain(trial: np.ndarray, current: np.ndarray) -> bool:
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


class BundleError(Exception):
    """A bundle file that cannot be served: corrupted, truncated or of another format."""


@dataclass(frozen=True)
class Recommendation:
    track: int  # position
    score: float
    confidence: float
    reason: str
    shares: dict[str, float]


def _predictor_classes() -> dict[str, Any]:
    from apps.recommend.engine.cooccurrence import CoOccurrencePredictor
    from apps.recommend.engine.demographic import DemographicPredictor
    from apps.recommend.engine.model import HybridPredictor
    from apps.recommend.engine.popularity import PopularityPredictor

    classes: dict[str, Any] = {
        "popularity": PopularityPredictor,
        "demographic": DemographicPredictor,
        "cooccurrence": CoOccurrencePredictor,
        "model": HybridPredictor,
    }
    try:
        from apps.recommend.engine.itemitem import ItemItemPredictor

        classes["itemitem"] = ItemItemPredictor
    except ImportError:  # pragma: no cover - the item-item predictor is optional
        pass
    return classes


def default_predictors(seed: int = 0) -> list[Any]:
    classes = _predictor_classes()
    predictors = [classes["popularity"](), classes["demographic"](), classes["cooccurrence"]()]
    if "itemitem" in classes:
        predictors.append(classes["itemitem"]())
    model = classes["model"]()
    model.config.seed = seed
    predictors.append(model)
    return predictors


@dataclass
class EngineBundle:
    """Predictors + blending weights + what is needed to explain and cap results."""

    name: str = "ensemble"
    predictors: dict[str, Any] = field(default_factory=dict)
    quality: dict[str, float] = field(default_factory=dict)
    # Blend weights per history-length slice (HISTORY_SLICES); see _measure.
    slice_quality: dict[str, dict[str, float]] = field(default_factory=dict)
    # Per slice, 1 / each predictor's mean confidence on the validation cases: confidences on
    # different scales (a data-support factor, a prior's fixed 0.1) then weigh only relative to
    # their own typical value, and the tuned quality alone sets how much each predictor counts.
    confidence_scale: dict[str, dict[str, float]] = field(default_factory=dict)
    track_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    artist: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    titles: list[str] = field(default_factory=list)
    # Calibration: blended score thresholds -> observed hit rate (non-decreasing), one row per
    # (history slice, CALIBRATION_RANKS entry).
    calibration_x: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    calibration_y: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    metadata: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    measure_quality: bool = True
    # What the blend is tuned to predict: each listener's "latest" items (the site's task: the
    # next song) or "random" ones (offline protocols that hide random items, e.g. ML-100K's).
    holdout: str = "latest"

    # --- training -----------------------------------------------------------------------------
    def fit(self, dataset: Dataset) -> EngineBundle:
        started = time.perf_counter()
        if not self.predictors:
            self.predictors = {p.name: p for p in default_predictors(self.seed)}
        self.track_ids = np.asarray(dataset.track_ids)
        tracks = dataset.tracks
        self.artist = (
            np.asarray(tracks.artist, dtype=np.int64)
            if tracks is not None
            else np.arange(dataset.n_tracks, dtype=np.int64)
        )
        self.titles = list(self.metadata.get("titles", [])) or []
        rng = np.random.default_rng(self.seed)
        validation = (
            hold_out_items(
                dataset,
                rng,
                how=self.holdout,
                share=VALIDATION_SHARE,
                max_listeners=VALIDATION_LISTENERS,
                min_history=VALIDATION_MIN_HISTORY,
            )
            if self.measure_quality
            else None
        )
        timings = self._fit_predictors(validation[0] if validation is not None else dataset)
        self.quality = dict.fromkeys(self.predictors, 1.0)
        refit = False
        if validation is not None:
            self._measure(validation[1], validation[2])
            hidden = dataset.n_interactions - validation[0].n_interactions
            refit = hidden >= REFIT_MIN_HELDOUT_SHARE * max(dataset.n_interactions, 1)
        if refit:
            # The weights and calibration stay those measured on the hidden items; the served
            # predictors learn from everything (on small data the hidden share is not small).
            refit_timings = self._fit_predictors(dataset)
            timings = {name: round(timings[name] + refit_timings[name], 3) for name in timings}
        self.metadata["refit_on_all_data"] = refit
        self.metadata.update(
            fit_seconds=round(time.perf_counter() - started, 3),
            predictor_fit_seconds=timings,
            quality=self.quality,
            n_interactions=int(dataset.n_interactions),
            n_listeners=int(dataset.n_listeners),
            n_tracks=int(dataset.n_tracks),
        )
        return self

    def _fit_predictors(self, dataset: Dataset) -> dict[str, float]:
        """Fit every predictor on ``dataset``; seconds each took."""
        timings: dict[str, float] = {}
        for name, predictor in self.predictors.items():
            t0 = time.perf_counter()
            predictor.fit(dataset)
            timings[name] = round(time.perf_counter() - t0, 3)
        return timings

    def _measure(self, contexts: list[Context], targets: list[np.ndarray]) -> None:
        """Blend weights and calibration from items held out of training.

        Weights are tuned separately for each history length of ``HISTORY_SLICES`` (none, one,
        a few, many), because which predictor knows best changes with how much the listener
        has told us: with no history only demographics and popularity can speak. Each slice's
        validation contexts are the same listeners fed nothing, all their shown items, or (the
        short slices) up to ``WINDOWS_PER_LISTENER`` stretches of their shown items.
        """
        slices = {name: _slice_cases(contexts, targets, fed) for name, _, fed in HISTORY_SLICES}
        report: dict[str, dict[str, float]] = {}
        tuned: dict[str, list[_Case]] = {}
        for slice_name, (slice_contexts, slice_targets, listener) in slices.items():
            cases = [
                self._validation_case(c, t)
                for c, t in zip(slice_contexts, slice_targets, strict=True)
            ]
            quality, scores = self._tune(slice_name, cases, listener)
            self.slice_quality[slice_name] = quality
            report[slice_name] = scores
            tuned[slice_name] = cases
        self.quality = dict(self.slice_quality["warm"])
        self.metadata["validation_ndcg10"] = report["warm"]
        self.metadata["validation_ndcg10_by_slice"] = report
        # Calibrate each slice on its own: blended scores are not comparable across slices (with
        # no history one predictor's head scores 1 yet hits far less often than a long history's).
        # The pools hold every predictor's head, so the blend's top 10 on a pool is, all but
        # always, its top 10 on the catalogue (a track just outside two predictors' heads could
        # beat it), with the same scores.
        curves = []
        for slice_name in CALIBRATION_SLICES:
            raw: list[np.ndarray] = []  # the top 10's blended scores per case, best first
            hits: list[np.ndarray] = []
            slice_contexts = slices[slice_name][0]
            for context, case in zip(slice_contexts, tuned[slice_name], strict=True):
                blended = _pool_blend(case, self.slice_quality[slice_name])
                if blended is None:  # served by a fallback: blend the whole catalogue
                    full, _, _ = self._blend(context)
                    full[history_of(context)] = -np.inf
                    top = _top10(full)
                    raw.append(full[top])
                    hits.append(np.isin(top, case.targets).astype(np.float64))
                    continue
                top = _top10(blended)
                raw.append(blended[top])
                hits.append(case.relevant[top].astype(np.float64))
            first_raw = np.array([r[0] for r in raw if len(r)])
            first_hits = np.array([h[0] for h in hits if len(h)])
            rest = _monotone_bins(
                np.concatenate([r[1:] for r in raw]), np.concatenate([h[1:] for h in hits])
            )
            top_pick = _monotone_bins(first_raw, first_hits)
            # too few cases for a top-pick curve (small data): the rest of the top 10's
            curves.append(top_pick if len(top_pick[0]) == CALIBRATION_BINS else rest)
            curves.append(rest)
        if all(len(xs) == CALIBRATION_BINS for xs, _ in curves):
            self.calibration_x = np.stack([xs for xs, _ in curves])
            self.calibration_y = np.stack([ys for _, ys in curves])

    def _tune(
        self, slice_name: str, cases: list[_Case], listener: np.ndarray
    ) -> tuple[dict[str, float], dict[str, float]]:
        """Blend weights for one slice, and NDCG@10 of each predictor alone and of the blend.

        Only predictors that speak in this slice (some confidence > 0) take part. The blend
        starts as one of them alone: the simplest (``SIMPLICITY``) unless a more complex one is
        clearly better alone on these listeners. Coordinate ascent then tries each
        predictor at each weight of ``BLEND_LEVELS`` (relative to the others) and keeps a change
        only when the blend's NDCG@10 on the held-out items rises clearly (``_clear_gain``):
        with a few hundred validation listeners small gains are mostly noise, and a blend that
        only fits noise would lose to its best member on new listeners. The blend is scored on
        candidate sets (each predictor's top ``VALIDATION_CANDIDATES`` plus the targets), which
        ranks like the full catalogue at a fraction of the memory. ``listener`` numbers the
        validation listener of each case; gains are averaged per listener before comparing.
        The cases' confidences are rescaled in place (``confidence_scale``).
        """
        names = list(self.predictors)
        scale = {}
        speaking = []  # predictors with something to say in this slice (confidence > 0)
        for name in names:
            mean = float(np.mean([case.confidences[name] for case in cases])) if cases else 0.0
            scale[name] = 1.0 / mean if mean > 0 else 1.0
            if mean > 0:
                speaking.append(name)
        self.confidence_scale[slice_name] = scale
        for case in cases:
            case.confidences = {n: c * scale[n] for n, c in case.confidences.items()}
        alone_gains = {
            n: _per_listener(np.array([case.alone[n] for case in cases]), listener) for n in names
        }
        # per listener, like the blend's score below
        alone = {
            name: float(gains.mean()) if len(gains) else 0.0 for name, gains in alone_gains.items()
        }
        best = max((alone[name] for name in speaking), default=0.0)
        if best <= 0:
            return dict.fromkeys(names, 1.0), alone
        # The simplest predictor leads unless a more complex one is clearly better alone.
        by_simplicity = sorted(
            speaking, key=lambda n: SIMPLICITY.index(n) if n in SIMPLICITY else len(SIMPLICITY)
        )
        leader = by_simplicity[0]
        for name in by_simplicity[1:]:
            if _clear_gain(alone_gains[name], alone_gains[leader]):
                leader = name
        quality = {name: 1.0 if name == leader else 0.0 for name in names}
        gains = _per_listener(_blend_gains(cases, quality), listener)
        for _ in range(BLEND_PASSES):
            changed = False
            for name in speaking:
                for level in BLEND_LEVELS:
                    trial = {**quality, name: level}
                    if max(trial.values()) <= 0 or trial == quality:
                        continue
                    trial_gains = _per_listener(_blend_gains(cases, trial), listener)
                    if _clear_gain(trial_gains, gains):
                        quality, gains, changed = trial, trial_gains, True
            if not changed:
                break
        top = max(quality.values())
        score = float(gains.mean()) if len(gains) else 0.0
        return {name: value / top for name, value in quality.items()}, {**alone, "ensemble": score}

    def chosen_settings(self) -> dict[str, str]:
        """Per history slice, the predictors that carry the blend and their relative weights."""
        return {
            name: " + ".join(
                f"{predictor} {weight:.2g}"
                for predictor, weight in sorted(weights.items(), key=lambda kv: -kv[1])
                if weight > 0
            )
            for name, weights in self.slice_quality.items()
        }

    @staticmethod
    def _slice_of(context: Context) -> str:
        n = len(history_of(context))
        return next(name for name, shortest, _ in reversed(HISTORY_SLICES) if n >= shortest)

    def _quality_for(self, context: Context) -> dict[str, float]:
        return self.slice_quality.get(self._slice_of(context)) or self.quality

    def _validation_case(self, context: Context, target: np.ndarray) -> _Case:
        history = history_of(context)
        vectors: dict[str, np.ndarray] = {}
        confidences: dict[str, float] = {}
        candidates: list[np.ndarray] = [target]
        for name, predictor in self.predictors.items():
            result = predictor.score(context)
            vector = _standardise(result.scores)
            vector[history] = -np.inf
            vectors[name] = vector
            confidences[name] = float(result.confidence)
            k = min(VALIDATION_CANDIDATES, len(vector))
            candidates.append(np.argpartition(-vector, k - 1)[:k])
        pool = np.unique(np.concatenate(candidates))
        pool = pool[np.isin(pool, history, invert=True)]
        relevant = np.isin(pool, target)
        on_pool = {name: v[pool] for name, v in vectors.items()}
        return _Case(
            vectors=on_pool,
            confidences=confidences,
            relevant=relevant,
            # each predictor's own top 10 lies in the pool, which holds its head
            alone={name: _pool_ndcg(v, relevant, len(target)) for name, v in on_pool.items()},
            targets=target,
        )

    # --- serving ------------------------------------------------------------------------------
    def _blend(
        self, context: Context
    ) -> tuple[np.ndarray, dict[str, tuple[float, np.ndarray]], dict[str, float]]:
        parts: dict[str, tuple[float, np.ndarray]] = {}
        confidences: dict[str, float] = {}
        quality = self._quality_for(context)
        scale = self.confidence_scale.get(self._slice_of(context), {})
        for name, predictor in self.predictors.items():
            result: Scores = predictor.score(context)
            confidences[name] = float(result.confidence)
            weight = float(result.confidence) * scale.get(name, 1.0) * quality.get(name, 1.0)
            if weight > 0:
                parts[name] = (weight, _standardise(result.scores))
        if not parts:
            for name in _fallback_order(quality):
                predictor = self.predictors.get(name)
                if predictor is None:
                    continue
                scores = predictor.score(context).scores
                if len(scores) and float(np.nanmax(scores) - np.nanmin(scores)) > 0:
                    parts[name] = (1.0, _standardise(scores))
                    break
        n = len(self.track_ids)
        if not parts:  # nothing knows anything: keep catalogue order, stable and non-empty
            return np.linspace(1.0, 0.0, n, dtype=np.float32), {}, confidences
        total = sum(w for w, _ in parts.values())
        blended = np.zeros(n, dtype=np.float32)
        for weight, vector in parts.values():
            blended += (weight / total) * vector
        return blended, parts, confidences

    def score(self, context: Context, candidates: np.ndarray | None = None) -> Scores:
        """The blended scores; confidence is the calibrated hit rate of the best new track."""
        blended, parts, _ = self._blend(context)
        confidence = 0.0
        if parts and len(blended):
            unseen = blended.copy()
            history = history_of(context)
            unseen[history[(history >= 0) & (history < len(unseen))]] = -np.inf
            confidence = self.calibrated(float(unseen.max()), context, top_pick=True)
        return Scores(blended if candidates is None else blended[candidates], confidence)

    def recommend(self, context: Context, n: int = 10) -> list[Recommendation]:
        blended, parts, _ = self._blend(context)
        history = history_of(context)
        blended = blended.copy()
        blended[history[(history >= 0) & (history < len(blended))]] = -np.inf
        chosen = _capped_top(blended, self.artist, n)
        total = sum(w for w, _ in parts.values()) or 1.0
        out: list[Recommendation] = []
        for rank, track in enumerate(chosen):
            contributions = {
                name: max(0.0, (w / total) * float(vec[track])) for name, (w, vec) in parts.items()
            }
            mass = sum(contributions.values())
            shares = (
                {k: round(v / mass, 4) for k, v in contributions.items()}
                if mass > 0
                else {k: round(w / total, 4) for k, (w, _) in parts.items()}
            )
            out.append(
                Recommendation(
                    track=int(track),
                    score=float(blended[track]),
                    # never above the better-ranked tracks' (two curves meet here)
                    confidence=min(
                        self.calibrated(float(blended[track]), context, top_pick=rank == 0),
                        out[-1].confidence if out else 1.0,
                    ),
                    reason=self._reason(context, int(track), shares),
                    shares=shares,
                )
            )
        return out

    def recommend_many(self, contexts: list[Context], n: int = 10) -> list[list[Recommendation]]:
        return [self.recommend(context, n) for context in contexts]

    def calibrated(
        self, raw: float, context: Context | None = None, *, top_pick: bool = False
    ) -> float:
        """Observed hit rate of this blended score on held-out items (0-1, monotone).

        Per history-length slice two curves (rows of ``calibration_x``/``_y``, in
        ``CALIBRATION_RANKS`` order): one for the top pick, one for the rest of the top 10.
        """
        rows = len(CALIBRATION_SLICES) * len(CALIBRATION_RANKS)
        if self.calibration_x.ndim != 2 or self.calibration_x.shape[0] != rows:
            return float(1.0 / (1.0 + np.exp(-(raw - 3.0))))  # uncalibrated: a squashed score
        slice_row = CALIBRATION_SLICES.index(
            self._slice_of(context) if context is not None else "warm"
        )
        row = slice_row * len(CALIBRATION_RANKS) + (0 if top_pick else 1)
        return float(np.interp(raw, self.calibration_x[row], self.calibration_y[row]))

    def _reason(self, context: Context, track: int, shares: dict[str, float]) -> str:
        if not shares:
            return "Popular on FMA"
        lead = max(shares, key=lambda k: shares[k])
        predictor = self.predictors.get(lead)
        if predictor is not None and hasattr(predictor, "because"):  # history-based predictors
            source = predictor.because(context, track)
            if source is not None and 0 <= source < len(self.titles):
                return f"Because you added “{self.titles[source]}”"
            return "Because of the songs in your history"
        if lead == "demographic":
            return REASON_DEMOGRAPHIC
        if predictor is not None and hasattr(predictor, "explain"):
            return str(predictor.explain(context, track))
        return "Popular on FMA"

    def similar(self, track: int, n: int = 10) -> list[Recommendation]:
        """More like this:: item-item neighbours blended with the model's vector neighbours."""
        scores = np.zeros(len(self.track_ids), dtype=np.float32)
        used: dict[str, float] = {}
        itemitem = self.predictors.get("itemitem")
        if itemitem is not None and hasattr(itemitem, "similar"):
            neighbours = itemitem.similar(track, max(50, n * 5))
            if neighbours:
                weight = 0.6 * max(0.1, self.quality.get("itemitem", 1.0))
                top = max(abs(s) for _, s in neighbours) or 1.0
                for other, s in neighbours:
                    scores[other] += weight * s / top
                used["itemitem"] = weight
        model = self.predictors.get("model")
        if model is not None and getattr(model, "trained", False):
            vector_scores = model.similar_vector_scores(track)
            if vector_scores is not None:
                weight = 0.4 * max(0.1, self.quality.get("model", 1.0))
                scores += weight * np.asarray(vector_scores, dtype=np.float32)
                used["model"] = weight
        if not used:
            return []
        scores[track] = -np.inf
        chosen = _capped_top(scores, self.artist, n)
        total = sum(used.values())
        shares = {k: round(v / total, 4) for k, v in used.items()}
        title = self.titles[track] if track < len(self.titles) else "this track"
        return [
            Recommendation(
                track=int(t),
                score=float(scores[t]),
                confidence=float(np.clip(scores[t] / total, 0.0, 1.0)),
                reason=f"Listeners of “{title}” also add this",
                shares=shares,
            )
            for t in chosen
            if np.isfinite(scores[t]) and scores[t] > 0
        ]

    # --- persistence --------------------------------------------------------------------------
    def save(self, path: Path) -> str:
        """Write atomically (temp file + rename); return the file's sha256."""
        arrays: dict[str, np.ndarray] = {
            "bundle.track_ids": self.track_ids,
            "bundle.artist": self.artist,
            "bundle.calibration_x": self.calibration_x,
            "bundle.calibration_y": self.calibration_y,
        }
        predictors_meta: dict[str, Any] = {}
        for name, predictor in self.predictors.items():
            p_arrays, p_meta = predictor.get_state()
            predictors_meta[name] = {"class": type(predictor).__name__, "meta": p_meta}
            for key, value in p_arrays.items():
                arrays[f"{name}.{key}"] = np.asarray(value)
        meta = {
            "format_version": FORMAT_VERSION,
            "quality": self.quality,
            "slice_quality": self.slice_quality,
            "confidence_scale": self.confidence_scale,
            "titles": self.titles,
            "metadata": {k: v for k, v in self.metadata.items() if k != "titles"},
            "predictors": predictors_meta,
            "seed": self.seed,
        }
        arrays["bundle.meta"] = np.frombuffer(
            json.dumps(meta, default=_json).encode(), dtype=np.uint8
        )
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)  # type: ignore[arg-type]
        payload = buffer.getvalue()
        digest = hashlib.sha256(payload).hexdigest()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".bundle")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        path.with_name(path.name + ".sha256").write_text(digest)
        return digest


def load_bundle(path: Path) -> EngineBundle:
    """Load a saved bundle, refusing anything that is not exactly what was written."""
    try:
        payload = path.read_bytes()
        expected = path.with_name(path.name + ".sha256").read_text().strip()
    except OSError as exc:
        raise BundleError(f"cannot read {path.name}: {exc}") from exc
    if hashlib.sha256(payload).hexdigest() != expected:
        raise BundleError(f"{path.name}: checksum mismatch (corrupted or truncated file)")
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
        meta = json.loads(arrays.pop("bundle.meta").tobytes().decode())
    except Exception as exc:
        raise BundleError(f"{path.name}: not a readable bundle ({exc})") from exc
    if meta.get("format_version") != FORMAT_VERSION:
        raise BundleError(f"{path.name}: format {meta.get('format_version')} != {FORMAT_VERSION}")
    classes = {cls.__name__: cls for cls in _predictor_classes().values()}
    predictors: dict[str, Any] = {}
    for name, info in meta["predictors"].items():
        cls = classes.get(info["class"])
        if cls is None:
            raise BundleError(f"{path.name}: unknown predictor class {info['class']}")
        prefix = f"{name}."
        p_arrays = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
        predictors[name] = cls.from_state(p_arrays, info["meta"])
    return EngineBundle(
        predictors=predictors,
        quality={k: float(v) for k, v in meta["quality"].items()},
        slice_quality={
            name: {k: float(v) for k, v in weights.items()}
            for name, weights in meta.get("slice_quality", {}).items()
        },
        confidence_scale={
            name: {k: float(v) for k, v in scales.items()}
            for name, scales in meta.get("confidence_scale", {}).items()
        },
        track_ids=arrays["bundle.track_ids"],
        artist=arrays["bundle.artist"],
        titles=list(meta["titles"]),
        calibration_x=arrays["bundle.calibration_x"],
        calibration_y=arrays["bundle.calibration_y"],
        metadata=dict(meta["metadata"]),
        seed=int(meta.get("seed", 0)),
    )


def build_default_ensemble(seed: int = 0, holdout: str = "latest") -> EngineBundle:
    """The ensemble as served, for the evaluation harness."""
    return EngineBundle(seed=seed, holdout=holdout)


# --- helpers ------------------------------------------------------------------------------------


def _json(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _slice_cases(
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


def _standardise(scores: np.ndarray) -> np.ndarray:
    """Centre on the catalogue mean and scale so this predictor's best track scores 1.

    Scaling by the head (not the standard deviation) keeps a heavy-tailed predictor from
    dominating the blend just because its top scores sit many deviations out.
    """
    vector = np.asarray(scores, dtype=np.float32)
    finite = np.isfinite(vector)
    if not finite.all():
        vector = np.where(finite, vector, np.float32(0.0))
    mean = float(vector.mean())
    spread = float(vector.max()) - mean
    if spread <= 0:
        return np.zeros_like(vector)
    return (vector - mean) / spread


def _capped_top(scores: np.ndarray, artist: np.ndarray, n: int) -> list[int]:
    """Best ``n`` finite tracks, at most ARTIST_CAP per artist in each block of ARTIST_BLOCK."""
    if len(scores) == 0 or n <= 0:
        return []
    pool = min(len(scores), max(n * 8, n + 100))
    top = (
        np.argpartition(-scores, pool - 1)[:pool] if pool < len(scores) else np.arange(len(scores))
    )
    top = top[np.argsort(-scores[top], kind="stable")]
    chosen: list[int] = []
    block_counts: dict[int, int] = {}
    for track in top:
        if not np.isfinite(scores[track]):
            break
        if len(chosen) % ARTIST_BLOCK == 0:
            block_counts = {}
        a = int(artist[track]) if len(artist) > track else int(track)
        key = a if a >= 0 else -1 - int(track)  # unknown artist: each track its own
        if block_counts.get(key, 0) >= ARTIST_CAP:
            continue
        block_counts[key] = block_counts.get(key, 0) + 1
        chosen.append(int(track))
        if len(chosen) == n:
            break
    return chosen


def _monotone_bins(raw: np.ndarray, hits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
