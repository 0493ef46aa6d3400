"""Fixtures for the evaluation tests."""

from __future__ import annotations

import pytest

from apps.recommend.engine.dataset import Dataset
from tests.recommend.evaluation.planted import planted_dataset


@pytest.fixture
def planted() -> Dataset:
    return planted_dataset()
