""":class:`EngineBundle`, the served ensemble: fitting, then blending per request.

The class holds the state (predictors, per-slice blend weights and confidence scales,
calibration curves, what explains and caps results) and the serving path (``_blend``,
``score``, ``recommend``, ``similar``). How the weights and curves are found lives in
``tuning`` and ``calibration``, the list-making rules in ``ranking``, the file format in
``persistence``; ``fit`` and ``_measure`` put them together.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from apps.recommend.engine._common import history_of
from apps.recommend.engine.bundle.calibration import calibration_curves, hit_rate
from apps.recommend.engine.bundle.ranking import (
    Recommendation,
    capped_top,
    fallback_order,
    reason_text,
    standardise,
)
from apps.recommend.engine.bundle.tuning import (
    HISTORY_SLICES,
    ValidationCase,
    hold_out_validation,
    slice_cases,
    tune_slice,
    validation_case,
)
from apps.recommend.engine.dataset import Context, Dataset, Scores

#: Refit every predictor on all data after tuning when validation hid at least this share of
#: the interactions; below it the refit would cost a second training for almost no data.
REFIT_MIN_HELDOUT_SHARE = 0.01


def predictor_classes() -> dict[str, Any]:
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
    classes = predictor_classes()
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
            hold_out_validation(dataset, rng, self.holdout) if self.measure_quality else None
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
        slices = {name: slice_cases(contexts, targets, fed) for name, _, fed in HISTORY_SLICES}
        report: dict[str, dict[str, float]] = {}
        tuned: dict[str, list[ValidationCase]] = {}
        for slice_name, (slice_contexts, slice_targets, listener) in slices.items():
            cases = [
                validation_case(self.predictors, c, t)
                for c, t in zip(slice_contexts, slice_targets, strict=True)
            ]
            tuning = tune_slice(list(self.predictors), cases, listener)
            self.confidence_scale[slice_name] = tuning.confidence_scale
            self.slice_quality[slice_name] = tuning.quality
            report[slice_name] = tuning.ndcg10
            tuned[slice_name] = cases
        self.quality = dict(self.slice_quality["warm"])
        self.metadata["validation_ndcg10"] = report["warm"]
        self.metadata["validation_ndcg10_by_slice"] = report
        curves = calibration_curves(
            {name: slice_contexts for name, (slice_contexts, _, _) in slices.items()},
            tuned,
            self.slice_quality,
            lambda context: self._blend(context)[0],
        )
        if curves is not None:
            self.calibration_x, self.calibration_y = curves

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
                parts[name] = (weight, standardise(result.scores))
        if not parts:
            for name in fallback_order(quality):
                predictor = self.predictors.get(name)
                if predictor is None:
                    continue
                scores = predictor.score(context).scores
                if len(scores) and float(np.nanmax(scores) - np.nanmin(scores)) > 0:
                    parts[name] = (1.0, standardise(scores))
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
        chosen = capped_top(blended, self.artist, n)
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
                    reason=reason_text(self.predictors, self.titles, context, int(track), shares),
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

        Read off the curve of the context's history slice (``calibration.hit_rate``); without a
        context, the warm slice's.
        """
        slice_name = self._slice_of(context) if context is not None else "warm"
        return hit_rate(raw, self.calibration_x, self.calibration_y, slice_name, top_pick=top_pick)

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
        chosen = capped_top(scores, self.artist, n)
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
        # imported here: persistence builds EngineBundles on load, so it imports this module
        from apps.recommend.engine.bundle.persistence import save_bundle

        return save_bundle(self, path)


def build_default_ensemble(seed: int = 0, holdout: str = "latest") -> EngineBundle:
    """The ensemble as served, for the evaluation harness."""
    return EngineBundle(seed=seed, holdout=holdout)
