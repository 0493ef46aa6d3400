"""The predictor interface shared by our predictors, the ensemble and the evaluation baselines."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from apps.recommend.engine.dataset import Context, Dataset, Scores


@runtime_checkable
class Predictor(Protocol):
    """Learns from a :class:`Dataset` and scores candidate tracks for a :class:`Context`."""

    name: str

    def fit(self, dataset: Dataset) -> Predictor:
        """Learn from ``dataset`` and return ``self``."""
        ...

    def score(self, context: Context, candidates: np.ndarray | None = None) -> Scores:
        """Score ``candidates`` (track positions; ``None`` = every track) for ``context``."""
        ...
