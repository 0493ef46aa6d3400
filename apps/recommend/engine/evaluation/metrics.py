"""Ranking and beyond-accuracy metrics.

Per-user functions take ``ranked`` (item positions, best first, already without the items the
listener fed in) and ``relevant`` (the held-out item positions). List-level functions take the
top-k lists of every evaluated user. Definitions are spelled out in ``docs/evaluation.md``; the
tests check each one against a hand-computed example.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def _hits(ranked: np.ndarray, relevant: np.ndarray | set[int], k: int) -> np.ndarray:
    rel = relevant if isinstance(relevant, set) else set(relevant.tolist())
    return np.fromiter((int(i) in rel for i in ranked[:k]), dtype=bool, count=min(k, len(ranked)))


def recall_at_k(ranked: np.ndarray, relevant: np.ndarray, k: int) -> float:
    """Hits in the top k over ``min(k, |relevant|)`` (Liang et al. 2018), so 1.0 is reachable."""
    if len(relevant) == 0:
        return math.nan
    return float(_hits(ranked, relevant, k).sum()) / min(k, len(relevant))


def ndcg_at_k(ranked: np.ndarray, relevant: np.ndarray, k: int) -> float:
    """Binary NDCG: gain 1 per hit, discount ``1 / log2(rank + 1)``, ideal = all hits on top."""
    if len(relevant) == 0:
        return math.nan
    hits = _hits(ranked, relevant, k)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    dcg = float(discounts[: len(hits)][hits].sum())
    idcg = float(discounts[: min(k, len(relevant))].sum())
    return dcg / idcg


def reciprocal_rank(ranked: np.ndarray, relevant: np.ndarray) -> float:
    """``1 / rank`` of the first relevant item in the full ranking (0 when none is ranked)."""
    if len(relevant) == 0:
        return math.nan
    hits = np.flatnonzero(np.isin(ranked, relevant))
    return 0.0 if len(hits) == 0 else 1.0 / (int(hits[0]) + 1)


def msr_user_metrics(ranked: np.ndarray, relevant: np.ndarray, k: int = 10) -> dict[str, float]:
    """One user's share of MS Recommenders' ``python_evaluation`` ranking metrics.

    Their definitions differ from ours: recall is ``hits / |relevant|`` (no ``min(k, ·)``),
    precision is ``hits / k``, MAP sums ``(hit index) / rank`` over the hits in the top k and
    divides by ``|relevant|``; NDCG is binary with a natural-log discount, which gives the same
    ratio as log2. The dataset-level value is the mean over users (users without hits count 0).
    """
    hits = _hits(ranked, relevant, k)
    n_hits = int(hits.sum())
    ranks = np.flatnonzero(hits) + 1
    dcg = float((1.0 / np.log(1 + ranks)).sum())
    idcg = float((1.0 / np.log(1 + np.arange(1, min(k, len(relevant)) + 1))).sum())
    precision_terms = np.arange(1, n_hits + 1) / ranks
    return {
        "msr_ndcg@10": dcg / idcg if idcg > 0 else 0.0,
        "msr_recall@10": n_hits / len(relevant),
        "msr_precision@10": n_hits / k,
        "msr_map": float(precision_terms.sum()) / len(relevant),
    }


def catalog_coverage(top_lists: Sequence[np.ndarray], n_items: int) -> float:
    """Share of the catalog that appears in at least one user's top list."""
    if n_items == 0:
        return math.nan
    seen: set[int] = set()
    for top in top_lists:
        seen.update(int(i) for i in top)
    return len(seen) / n_items


def _mean_pairwise(values: list[float]) -> float:
    return float(np.mean(values)) if values else math.nan


def intra_list_diversity_genre(top: np.ndarray, genres: Sequence[Sequence[int]]) -> float:
    """Mean ``1 - Jaccard(genres_a, genres_b)`` over pairs in one list.

    Pairs where either item has no genres are skipped; NaN when no pair is left.
    """
    sets = [set(genres[int(i)]) for i in top]
    values = []
    for a in range(len(sets)):
        for b in range(a + 1, len(sets)):
            if sets[a] and sets[b]:
                values.append(1.0 - len(sets[a] & sets[b]) / len(sets[a] | sets[b]))
    return _mean_pairwise(values)


def intra_list_diversity_artist(top: np.ndarray, artist: np.ndarray) -> float:
    """Share of pairs in one list by different artists (pairs with an unknown artist skipped)."""
    artists = [int(artist[int(i)]) for i in top]
    values = []
    for a in range(len(artists)):
        for b in range(a + 1, len(artists)):
            if artists[a] >= 0 and artists[b] >= 0:
                values.append(float(artists[a] != artists[b]))
    return _mean_pairwise(values)


def max_items_per_artist(top: np.ndarray, artist: np.ndarray) -> float:
    """Largest number of items one (known) artist holds in the list; NaN when none is known."""
    counts = Counter(int(artist[int(i)]) for i in top if artist[int(i)] >= 0)
    return float(max(counts.values())) if counts else math.nan


def item_popularity(n_users_per_item: np.ndarray, n_users: int) -> np.ndarray:
    """Share of training users that interacted with each item."""
    return n_users_per_item.astype(np.float64) / max(n_users, 1)


def novelty(top: np.ndarray, n_users_per_item: np.ndarray, n_users: int) -> float:
    """Mean self-information ``log2(n_users / max(count, 1))`` of the recommended items.

    An item nobody in training touched counts as seen once, so the value stays finite.
    """
    if len(top) == 0:
        return math.nan
    counts = np.maximum(n_users_per_item[top], 1).astype(np.float64)
    return float(np.mean(np.log2(max(n_users, 1) / counts)))


def mean_popularity(items: np.ndarray, popularity: np.ndarray) -> float:
    return float(np.mean(popularity[items])) if len(items) else math.nan


@dataclass
class ReliabilityBucket:
    low: float
    high: float
    n_users: int
    mean_confidence: float
    hit_rate_at_1: float
    hit_rate_at_10: float


def reliability_table(
    confidence: np.ndarray,
    hit_at_1: np.ndarray,
    hit_at_10: np.ndarray,
    edges: Sequence[float] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
) -> list[ReliabilityBucket]:
    """Bucket users by the predictor's confidence; per bucket, how often the top pick was right.

    ``hit_at_1`` is whether the top-1 item (the card the site shows) is held out; ``hit_at_10``
    whether any of the top 10 is. The last bucket includes its upper edge.
    """
    conf = np.clip(np.asarray(confidence, dtype=np.float64), 0.0, 1.0)
    h1 = np.asarray(hit_at_1, dtype=np.float64)
    h10 = np.asarray(hit_at_10, dtype=np.float64)
    table = []
    for b, (low, high) in enumerate(itertools.pairwise(edges)):
        last = b == len(edges) - 2
        mask = (conf >= low) & ((conf <= high) if last else (conf < high))
        n = int(mask.sum())
        table.append(
            ReliabilityBucket(
                low=float(low),
                high=float(high),
                n_users=n,
                mean_confidence=float(conf[mask].mean()) if n else math.nan,
                hit_rate_at_1=float(h1[mask].mean()) if n else math.nan,
                hit_rate_at_10=float(h10[mask].mean()) if n else math.nan,
            )
        )
    return table
