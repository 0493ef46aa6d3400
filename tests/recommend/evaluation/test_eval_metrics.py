"""Every metric against an example worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from apps.recommend.engine.evaluation import metrics

RANKED = np.array([3, 1, 7, 2, 9])
RELEVANT = np.array([1, 2, 5])  # hits at ranks 2 and 4; item 5 is never ranked


def test_recall_is_normalised_by_min_k_and_heldout_count() -> None:
    assert metrics.recall_at_k(RANKED, RELEVANT, 1) == 0.0
    assert metrics.recall_at_k(RANKED, RELEVANT, 2) == pytest.approx(1 / 2)  # 1 hit / min(2, 3)
    assert metrics.recall_at_k(RANKED, RELEVANT, 5) == pytest.approx(2 / 3)  # 2 hits / min(5, 3)
    # One held-out item found at rank 1: recall@10 is 1, not 1/10.
    assert metrics.recall_at_k(np.array([4, 0]), np.array([4]), 10) == 1.0


def test_binary_ndcg() -> None:
    dcg = 1 / math.log2(3) + 1 / math.log2(5)  # hits at ranks 2 and 4
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)  # three relevant items on top
    assert metrics.ndcg_at_k(RANKED, RELEVANT, 5) == pytest.approx(dcg / idcg)
    assert metrics.ndcg_at_k(RANKED, RELEVANT, 5) == pytest.approx(0.498189, abs=1e-6)
    # ideal list is cut at k: with k = 2, idcg = 1 + 1/log2(3)
    assert metrics.ndcg_at_k(RANKED, RELEVANT, 2) == pytest.approx(
        (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    )
    assert metrics.ndcg_at_k(np.array([1, 2, 5]), RELEVANT, 3) == pytest.approx(1.0)
    assert math.isnan(metrics.ndcg_at_k(RANKED, np.array([], dtype=np.int64), 5))


def test_reciprocal_rank() -> None:
    assert metrics.reciprocal_rank(RANKED, RELEVANT) == 0.5
    assert metrics.reciprocal_rank(RANKED, np.array([42])) == 0.0


def test_msr_definitions() -> None:
    got = metrics.msr_user_metrics(RANKED, RELEVANT, k=5)
    assert got["msr_recall@10"] == pytest.approx(2 / 3)  # hits / |relevant|
    assert got["msr_precision@10"] == pytest.approx(2 / 5)  # hits / k
    assert got["msr_map"] == pytest.approx((1 / 2 + 2 / 4) / 3)  # (1/2 + 2/4) / |relevant|
    # natural-log discount gives the same ratio as log2
    assert got["msr_ndcg@10"] == pytest.approx(metrics.ndcg_at_k(RANKED, RELEVANT, 5))
    # MSR recall is not capped at k: 1 hit of 20 relevant in a top 10 is 0.05
    many = np.arange(100, 120)
    assert metrics.msr_user_metrics(np.array([100]), many, 10)["msr_recall@10"] == 0.05
    assert metrics.recall_at_k(np.array([100]), many, 10) == 0.1


def test_catalog_coverage() -> None:
    assert metrics.catalog_coverage([np.array([0, 1]), np.array([1, 2])], 10) == pytest.approx(0.3)


def test_intra_list_diversity_by_genre() -> None:
    genres = [[1, 2], [2], [3], []]
    # pairs: (0,1) 1 - 1/2, (0,2) 1, (1,2) 1; pairs with item 3 (no genres) skipped
    got = metrics.intra_list_diversity_genre(np.array([0, 1, 2, 3]), genres)
    assert got == pytest.approx((0.5 + 1 + 1) / 3)
    assert math.isnan(metrics.intra_list_diversity_genre(np.array([3]), genres))


def test_intra_list_diversity_and_max_per_artist() -> None:
    artist = np.array([0, 0, 1, -1])
    top = np.array([0, 1, 2, 3])
    assert metrics.intra_list_diversity_artist(top, artist) == pytest.approx(2 / 3)
    assert metrics.max_items_per_artist(top, artist) == 2.0
    assert math.isnan(metrics.max_items_per_artist(np.array([3]), artist))


def test_novelty_is_mean_self_information() -> None:
    counts = np.array([8, 2, 0])
    # log2(8/8) = 0, log2(8/2) = 2, unseen item counts as once: log2(8/1) = 3
    assert metrics.novelty(np.array([0, 1, 2]), counts, 8) == pytest.approx(5 / 3)


def test_popularity_bias_inputs() -> None:
    popularity = metrics.item_popularity(np.array([8, 2, 0]), 8)
    assert popularity.tolist() == [1.0, 0.25, 0.0]
    assert metrics.mean_popularity(np.array([0, 1]), popularity) == pytest.approx(0.625)


def test_reliability_table() -> None:
    table = metrics.reliability_table(
        confidence=np.array([0.1, 0.15, 0.5, 1.0]),
        hit_at_1=np.array([1, 0, 1, 1]),
        hit_at_10=np.array([1, 1, 0, 1]),
    )
    assert [b.n_users for b in table] == [2, 0, 1, 0, 1]  # 1.0 lands in the last bucket
    assert table[0].mean_confidence == pytest.approx(0.125)
    assert table[0].hit_rate_at_1 == 0.5
    assert table[0].hit_rate_at_10 == 1.0
    assert table[2].hit_rate_at_10 == 0.0
    assert math.isnan(table[1].hit_rate_at_1)
