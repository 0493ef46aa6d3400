"""Results aggregated over seeds, the shape both the Markdown tables and the plots read."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from apps.recommend.engine.evaluation.runner import RunResult


@dataclass
class Stat:
    mean: float
    std: float
    n: int

    def fmt(self, digits: int = 4) -> str:
        if math.isnan(self.mean):
            return "n/a"
        if self.n < 2:
            return f"{self.mean:.{digits}f}"
        return f"{self.mean:.{digits}f} ± {self.std:.{digits}f}"


Key = tuple[str, str, str]  # protocol, slice, predictor


def aggregate(results: Sequence[RunResult]) -> dict[Key, dict[str, Stat]]:
    """Mean and sample standard deviation over seeds, per (protocol, slice, predictor)."""
    grouped: dict[Key, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in results:
        for metric, value in r.metrics.items():
            grouped[(r.protocol, r.slice, r.predictor)][metric].append(value)
    out: dict[Key, dict[str, Stat]] = {}
    for key, by_metric in grouped.items():
        out[key] = {}
        for metric, values in by_metric.items():
            arr = np.asarray(values, dtype=np.float64)
            arr = arr[~np.isnan(arr)]
            mean = float(arr.mean()) if len(arr) else math.nan
            std = float(arr.std(ddof=1)) if len(arr) > 1 else 0.0
            out[key][metric] = Stat(mean, std, len(arr))
    return out


def predictors_in(results: Sequence[RunResult], protocol: str) -> list[str]:
    seen: dict[str, None] = {}
    for r in results:
        if r.protocol == protocol:
            seen.setdefault(r.predictor, None)
    return list(seen)


def stat_of(stats: dict[Key, dict[str, Stat]], key: Key, metric: str) -> Stat:
    return stats.get(key, {}).get(metric, Stat(math.nan, math.nan, 0))
