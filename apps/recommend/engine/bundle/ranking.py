"""From predictors' score vectors to the served list: scales, fallbacks, artist cap, reasons.

What serving does to scores after the predictors speak, kept apart from the class so that the
blend tuning (``tuning``) ranks validation pools with exactly the same rules: each vector is
standardised before blending, a listener no predictor weighs is answered by one predictor alone
(``fallback_order``), and the final list is capped per artist and explained.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from apps.recommend.engine.dataset import Context

ARTIST_CAP = 2  # tracks per artist in any block of ARTIST_BLOCK results
ARTIST_BLOCK = 10
# Fallback order when no predictor has weight for a listener, after the slice's own
# predictors (see fallback_order).
FALLBACK_ORDER = ("model", "itemitem", "cooccurrence", "demographic", "popularity")
REASON_DEMOGRAPHIC = "Popular with listeners like you"


@dataclass(frozen=True)
class Recommendation:
    track: int  # position
    score: float
    confidence: float
    reason: str
    shares: dict[str, float]


def fallback_order(quality: dict[str, float]) -> list[str]:
    """Who answers alone when no predictor has weight for a listener.

    The slice's own predictors first, by weight, then ``FALLBACK_ORDER``: a listener whose only
    song nobody else has gets what the slice trusts most, e.g. popularity where the blend leads
    with co-occurrence, not a predictor the tuning switched off there.
    """
    weighted = sorted((n for n, q in quality.items() if q > 0), key=lambda n: -quality[n])
    return [*weighted, *(n for n in FALLBACK_ORDER if n not in weighted)]


def standardise(scores: np.ndarray) -> np.ndarray:
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


def capped_top(scores: np.ndarray, artist: np.ndarray, n: int) -> list[int]:
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


def reason_text(
    predictors: dict[str, Any],
    titles: list[str],
    context: Context,
    track: int,
    shares: dict[str, float],
) -> str:
    """Why ``track`` is recommended, in the words of the predictor with the largest share."""
    if not shares:
        return "Popular on FMA"
    lead = max(shares, key=lambda k: shares[k])
    predictor = predictors.get(lead)
    if predictor is not None and hasattr(predictor, "because"):  # history-based predictors
        source = predictor.because(context, track)
        if source is not None and 0 <= source < len(titles):
            return f"Because you added “{titles[source]}”"
        return "Because of the songs in your history"
    if lead == "demographic":
        return REASON_DEMOGRAPHIC
    if predictor is not None and hasattr(predictor, "explain"):
        return str(predictor.explain(context, track))
    return "Popular on FMA"
