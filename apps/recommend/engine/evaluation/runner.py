"""Run the evaluation protocols over predictors and seeds.

Every row of the report comes from the same loop: fit a :class:`Predictor` on the training
data, call ``score(context)`` once per evaluated listener, rank all items except the ones fed in,
and compute the metrics. Hyper-parameters are chosen on validation listeners (strong / cold
start) or on a validation split carved out of the training data (MS Recommenders protocol),
never on the test listeners.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from tqdm import tqdm

from apps.recommend.engine.base import Predictor
from apps.recommend.engine.dataset import Dataset
from apps.recommend.engine.evaluation import baselines, metrics
from apps.recommend.engine.evaluation.readers import LoadedDataset
from apps.recommend.engine.evaluation.splits import (
    COLD_START_SLICES,
    FULL_SLICE,
    EvalCase,
    HeldOutUser,
    cold_start_cases,
    msr_cases,
    msr_stratified_split,
    strong_cases,
    strong_generalization_split,
    subset,
)

logger = logging.getLogger(__name__)

PROTOCOLS = ("strong", "coldstart", "msr")
RANK_KS = (1, 5, 10, 20, 50, 100)
TOP_N = 10
MSR_SLICE = "msr"
#: Validation metric for tuning.
TUNING_METRIC = "ndcg@10"
#: The MS Recommenders split is tuned on an inner split of the training rows with this offset.
MSR_TUNING_SEED_OFFSET = 10_000

PredictorFactory = Callable[[dict[str, Any], int], Predictor]


@dataclass
class PredictorSpec:
    """A predictor to evaluate: how to build it and which settings to try."""

    name: str
    factory: PredictorFactory  # (params, seed) -> unfitted predictor
    grid: list[dict[str, Any]] = field(default_factory=lambda: [{}])
    group: str = "baseline"  # "baseline" or "ours"


@dataclass
class RunResult:
    protocol: str
    slice: str
    predictor: str
    group: str
    seed: int
    params: dict[str, Any]
    metrics: dict[str, float]
    #: Per evaluated listener: (confidence, hit@1, hit@10), for the reliability table.
    reliability: list[tuple[float, int, int]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TrainStats:
    """Item statistics of the training data, for novelty and popularity bias."""

    n_users: int
    users_per_item: np.ndarray
    popularity: np.ndarray

    @classmethod
    def of(cls, train: Dataset) -> TrainStats:
        counts = baselines.users_per_item(train)
        n_users = len(np.unique(train.user))
        return cls(n_users, counts, metrics.item_popularity(counts, n_users))


def baseline_specs(ease_max_items: int = baselines.EASE_MAX_ITEMS) -> list[PredictorSpec]:
    """The baselines of the issue, each with its tuning grid."""
    specs = [
        PredictorSpec("popularity", lambda p, s: baselines.GlobalPopularity()),
        PredictorSpec(
            "demographic-popularity",
            lambda p, s: baselines.DemographicPopularity(**p),
            [{"beta": b} for b in (1.0, 10.0, 50.0, 200.0)],
        ),
        PredictorSpec(
            "itemknn",
            lambda p, s: baselines.ItemKNN(**p),
            [{"k": k} for k in (10, 20, 50, 100, 200)],
        ),
        PredictorSpec(
            "ease",
            lambda p, s: baselines.EASE(**p),
            [{"lam": lam} for lam in (25.0, 50.0, 100.0, 200.0, 400.0, 800.0, 1600.0)],
        ),
        PredictorSpec(
            "ials",
            lambda p, s: baselines.IALS(seed=s, **p),
            [
                {"factors": f, "regularization": r, "alpha": a}
                for f in (64, 128)
                for r in (1.0, 10.0, 30.0)
                for a in (1.0, 5.0)
            ],
        ),
    ]
    return specs


# --------------------------------------------------------------------------- scoring


def rank_items(scores: np.ndarray, exclude: np.ndarray) -> np.ndarray:
    """All item positions, best first, without ``exclude`` and without -inf / NaN scores.

    Ties keep catalog order (stable sort), so rankings are deterministic.
    """
    s = np.array(scores, dtype=np.float64, copy=True)
    s[np.isnan(s)] = -np.inf
    s[np.asarray(exclude, dtype=np.int64)] = -np.inf
    order = np.argsort(-s, kind="stable")
    n_valid = int(np.isfinite(s).sum())
    return order[:n_valid]


@dataclass
class Evaluation:
    metrics: dict[str, float]
    reliability: list[tuple[float, int, int]]


def evaluate_cases(
    predictor: Predictor,
    cases: Sequence[EvalCase],
    stats: TrainStats,
    dataset: Dataset,
    *,
    full: bool = True,
    msr: bool = False,
) -> Evaluation:
    """Score every case and average the metrics over listeners.

    ``full=False`` computes only NDCG@10 (cheap, for tuning); ``msr=True`` adds MS Recommenders'
    metric definitions.
    """
    per_user: dict[str, list[float]] = {}
    tops: list[np.ndarray] = []
    latencies: list[float] = []
    reliability: list[tuple[float, int, int]] = []
    tracks = dataset.tracks
    has_genres = tracks is not None and any(tracks.genres)
    has_artists = tracks is not None and bool((tracks.artist >= 0).any())

    def add(key: str, value: float) -> None:
        per_user.setdefault(key, []).append(value)

    for case in cases:
        start = time.perf_counter()
        answer = predictor.score(case.context)
        latencies.append(time.perf_counter() - start)
        ranked = rank_items(answer.scores, case.context.history)
        add("ndcg@10", metrics.ndcg_at_k(ranked, case.relevant, 10))
        if not full:
            continue
        top = ranked[:TOP_N]
        tops.append(top)
        for k in RANK_KS:
            add(f"recall@{k}", metrics.recall_at_k(ranked, case.relevant, k))
            if k != 10:  # NDCG@10 was computed above
                add(f"ndcg@{k}", metrics.ndcg_at_k(ranked, case.relevant, k))
        add("mrr", metrics.reciprocal_rank(ranked, case.relevant))
        hit1 = int(len(top) > 0 and bool(np.isin(top[:1], case.relevant).any()))
        hit10 = int(bool(np.isin(top, case.relevant).any()))
        add("hit@1", hit1)
        add("hit@10", hit10)
        add("confidence", float(answer.confidence))
        reliability.append((float(answer.confidence), hit1, hit10))
        add("novelty", metrics.novelty(top, stats.users_per_item, stats.n_users))
        add("pop_recommended", metrics.mean_popularity(top, stats.popularity))
        add("pop_heldout", metrics.mean_popularity(case.relevant, stats.popularity))
        if tracks is not None and has_genres:
            add("ild_genre", metrics.intra_list_diversity_genre(top, tracks.genres))
        if tracks is not None and has_artists:
            add("ild_artist", metrics.intra_list_diversity_artist(top, tracks.artist))
            add("max_per_artist", metrics.max_items_per_artist(top, tracks.artist))
        if msr:
            for key, value in metrics.msr_user_metrics(ranked, case.relevant, TOP_N).items():
                add(key, value)

    out = {key: _nanmean(values) for key, values in per_user.items()}
    out["n_users"] = float(len(cases))
    if full:
        out["coverage@10"] = metrics.catalog_coverage(tops, dataset.n_tracks)
        lat_ms = np.array(latencies) * 1000.0
        out["latency_ms_mean"] = float(lat_ms.mean()) if len(lat_ms) else math.nan
        out["latency_ms_p95"] = float(np.percentile(lat_ms, 95)) if len(lat_ms) else math.nan
        if "pop_heldout" in out and out["pop_heldout"] > 0:
            out["pop_bias"] = out["pop_recommended"] / out["pop_heldout"]
    return Evaluation(out, reliability)


def _nanmean(values: Iterable[float]) -> float:
    arr = np.asarray(list(values), dtype=np.float64)
    arr = arr[~np.isnan(arr)]
    return float(arr.mean()) if len(arr) else math.nan


# --------------------------------------------------------------------------- tuning


@dataclass
class Fitted:
    predictor: Predictor
    params: dict[str, Any]
    train_seconds: float
    validation_score: float


def _fit(spec: PredictorSpec, params: dict[str, Any], seed: int, train: Dataset) -> Fitted:
    predictor = spec.factory(params, seed)
    start = time.perf_counter()
    predictor.fit(train)
    return Fitted(predictor, params, time.perf_counter() - start, math.nan)


def tune(
    spec: PredictorSpec,
    train: Dataset,
    validation: Mapping[str, Sequence[EvalCase]],
    seed: int,
) -> dict[str, Fitted]:
    """Fit every grid point once; per validation slice, keep the best by NDCG@10.

    A spec with a single setting is fitted once and not validated (nothing to choose).
    """
    if len(spec.grid) == 1 or not validation:
        fitted = _fit(spec, spec.grid[0], seed, train)
        return dict.fromkeys(validation, fitted) or {FULL_SLICE: fitted}
    stats = TrainStats.of(train)
    best: dict[str, Fitted] = {}
    for params in spec.grid:
        try:
            fitted = _fit(spec, params, seed, train)
        except (ValueError, MemoryError) as exc:
            logger.warning("%s %s: fit failed (%s); skipped", spec.name, params, exc)
            continue
        for name, cases in validation.items():
            score = evaluate_cases(fitted.predictor, cases, stats, train, full=False).metrics[
                TUNING_METRIC
            ]
            current = best.get(name)
            if current is None or score > current.validation_score:
                best[name] = Fitted(fitted.predictor, params, fitted.train_seconds, score)
    if not best:
        raise ValueError(f"{spec.name}: no setting could be fitted")
    return best


# --------------------------------------------------------------------------- protocols


def _self_chosen(predictor: Predictor) -> dict[str, Any]:
    """What a predictor chose for itself at fit time (``chosen_settings()``, when it has one).

    Our predictors tune themselves on their own held-out data; the report shows what they
    picked next to the settings the harness chose for the baselines.
    """
    chosen = getattr(predictor, "chosen_settings", None)
    return dict(chosen()) if callable(chosen) else {}


def _result(
    protocol: str,
    slice_name: str,
    spec: PredictorSpec,
    seed: int,
    fitted: Fitted,
    evaluation: Evaluation,
) -> RunResult:
    values = dict(evaluation.metrics)
    values["train_s"] = fitted.train_seconds
    if not math.isnan(fitted.validation_score):
        values["validation_ndcg@10"] = fitted.validation_score
    return RunResult(
        protocol=protocol,
        slice=slice_name,
        predictor=spec.name,
        group=spec.group,
        seed=seed,
        params={**fitted.params, **_self_chosen(fitted.predictor)},
        metrics=values,
        reliability=evaluation.reliability,
    )


def _slice_cases(train: Dataset, users: list[HeldOutUser], n_items: int | None) -> list[EvalCase]:
    """Full fold-in history (``None``) or only its first ``n_items`` (cold start)."""
    if n_items is None:
        return strong_cases(train, users)
    return cold_start_cases(train, users, n_items)


def run_heldout_users(
    loaded: LoadedDataset,
    specs: Sequence[PredictorSpec],
    seeds: Sequence[int],
    *,
    strong: bool = True,
    coldstart: bool = True,
    heldout_users: float = 0.15,
    progress: bool = True,
) -> list[RunResult]:
    """Strong generalization and/or cold start on one held-out-user split per seed."""
    slices: dict[str, int | None] = {}
    if strong:
        slices[FULL_SLICE] = None
    if coldstart:
        slices.update(COLD_START_SLICES)
    results: list[RunResult] = []
    bar = tqdm(
        total=len(seeds) * len(specs), desc="strong/coldstart", disable=not progress, unit="fit"
    )
    for seed in seeds:
        split = strong_generalization_split(
            loaded.dataset, seed, heldout_users, loaded.positive_threshold
        )
        stats = TrainStats.of(split.train)

        validation = {n: _slice_cases(split.train, split.validation, k) for n, k in slices.items()}
        test = {n: _slice_cases(split.train, split.test, k) for n, k in slices.items()}
        for spec in specs:
            bar.set_postfix_str(f"seed {seed} {spec.name}")
            chosen = tune(spec, split.train, validation, seed)
            for name in slices:
                evaluation = evaluate_cases(chosen[name].predictor, test[name], stats, split.train)
                protocol = "strong" if name == FULL_SLICE else "coldstart"
                results.append(_result(protocol, name, spec, seed, chosen[name], evaluation))
            bar.update()
    bar.close()
    return results


def run_msr(
    loaded: LoadedDataset,
    specs: Sequence[PredictorSpec],
    seeds: Sequence[int],
    *,
    progress: bool = True,
) -> list[RunResult]:
    """MS Recommenders' ML-100K protocol: stratified 75/25 split per user, top 10, all ratings.

    Seed 42 is their split exactly; the other seeds repeat it with other random draws.
    """
    results: list[RunResult] = []
    dataset = loaded.dataset
    bar = tqdm(total=len(seeds) * len(specs), desc="msr", disable=not progress, unit="fit")
    for seed in seeds:
        mask = msr_stratified_split(dataset, 0.75, seed)
        train, test = subset(dataset, mask), subset(dataset, ~mask)
        stats = TrainStats.of(train)
        cases = msr_cases(train, test)
        inner = msr_stratified_split(train, 0.75, seed + MSR_TUNING_SEED_OFFSET)
        sub_train, sub_val = subset(train, inner), subset(train, ~inner)
        val_cases = {MSR_SLICE: msr_cases(sub_train, sub_val)}
        for spec in specs:
            bar.set_postfix_str(f"seed {seed} {spec.name}")
            if len(spec.grid) > 1:
                best = tune(spec, sub_train, val_cases, seed)[MSR_SLICE]
                fitted = _fit(spec, best.params, seed, train)
                fitted.validation_score = best.validation_score
            else:
                fitted = _fit(spec, spec.grid[0], seed, train)
            evaluation = evaluate_cases(fitted.predictor, cases, stats, train, msr=True)
            results.append(_result("msr", MSR_SLICE, spec, seed, fitted, evaluation))
            bar.update()
    bar.close()
    return results


def run_protocols(
    loaded: LoadedDataset,
    protocols: Sequence[str],
    specs: Sequence[PredictorSpec],
    seeds: Sequence[int],
    *,
    heldout_users: float = 0.15,
    progress: bool = True,
) -> list[RunResult]:
    """Run the named protocols; strong and cold start share one held-out-user split per seed."""
    unknown = [p for p in protocols if p not in PROTOCOLS]
    if unknown:
        raise ValueError(f"unknown protocol(s) {unknown}; choose from {PROTOCOLS} or 'all'")
    results: list[RunResult] = []
    if "strong" in protocols or "coldstart" in protocols:
        results += run_heldout_users(
            loaded,
            specs,
            seeds,
            strong="strong" in protocols,
            coldstart="coldstart" in protocols,
            heldout_users=heldout_users,
            progress=progress,
        )
    if "msr" in protocols:
        results += run_msr(loaded, specs, seeds, progress=progress)
    return results
