"""Shared engine helpers checked against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from apps.recommend.engine._common import ndcg_of_hits


def test_ndcg_of_hits_by_hand() -> None:
    # hits at ranks 1 and 3 of 2 relevant: (1 + 1/log2 4) / (1 + 1/log2 3)
    expected = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    assert ndcg_of_hits(np.array([True, False, True]), 2) == pytest.approx(expected)


def test_ndcg_of_hits_caps_at_k() -> None:
    hits = np.array([False, True, True, True])
    # only the first 2 count; the ideal holds min(k, 5) = 2 hits on top
    expected = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert ndcg_of_hits(hits, 5, k=2) == pytest.approx(expected)
    assert ndcg_of_hits(np.ones(10, dtype=bool), 30) == pytest.approx(1.0)


def test_ndcg_of_hits_without_relevant_items_is_zero() -> None:
    assert ndcg_of_hits(np.zeros(3, dtype=bool), 0) == 0.0
