from __future__ import annotations

import numpy as np

from apps.recommend.engine.dataset import Context, Dataset
from apps.recommend.engine.model import HybridPredictor
from apps.recommend.engine.similar import SimilarTracks
from tests.recommend.engine.planted import A, B, C


def test_more_like_this_finds_co_listened_tracks(
    planted: Dataset, planted_model: HybridPredictor
) -> None:
    similar = SimilarTracks(model=planted_model).fit(planted)

    neighbours = [t for t, _ in similar.similar(A, 5)]

    assert A not in neighbours
    assert B in neighbours[:3] and C in neighbours[:3]


def test_co_occurrence_alone_works_without_a_model(planted: Dataset) -> None:
    similar = SimilarTracks(model=None).fit(planted)

    neighbours = [t for t, _ in similar.similar(B, 2)]

    assert sorted(neighbours) == [A, C]


def test_as_a_predictor_it_trusts_short_histories_more(
    planted: Dataset, planted_model: HybridPredictor
) -> None:
    similar = SimilarTracks(model=planted_model).fit(planted)
    short = similar.score(Context(history=np.array([A])))
    long = similar.score(Context(history=np.arange(3, 43)))

    assert int(np.argmax(np.where(np.arange(len(short.scores)) == A, -np.inf, short.scores))) in (
        B,
        C,
    )
    assert short.confidence > long.confidence > 0
    assert similar.score(Context()).confidence == 0.0
