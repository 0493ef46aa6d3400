"""Engine fixtures: models trained once per session on tiny planted data."""

from __future__ import annotations

import pytest

from apps.recommend.engine.dataset import Dataset
from apps.recommend.engine.model import HybridConfig, HybridPredictor
from apps.recommend.engine.synthetic import SyntheticData, generate
from tests.recommend.engine.planted import co_listening


def small_config(**overrides: object) -> HybridConfig:
    cfg = HybridConfig(
        dim=32, out_dim=32, hidden=64, epochs=10, batch_samples=32, lr_sparse=0.03,
        n_tag_buckets=256, min_interactions=100, min_listeners=10, support_full=2_000,
        threads=1, seed=0,
    )  # fmt: skip
    for k, v in overrides.items():
        setattr(cfg, k, v)
    return cfg


@pytest.fixture(scope="session")
def planted() -> Dataset:
    return co_listening()


@pytest.fixture(scope="session")
def planted_model(planted: Dataset) -> HybridPredictor:
    return HybridPredictor(config=small_config(keep_module=True)).fit(planted)


@pytest.fixture(scope="session")
def synthetic() -> SyntheticData:
    return generate(n_tracks=400, n_interactions=6_000, seed=3)
