"""CoOccurrencePredictor: mean smoothed P(track | history track), top-k neighbours per track."""

from __future__ import annotations

import math

import numpy as np
import pytest

from apps.recommend.engine import cooccurrence
from apps.recommend.engine.base import Predictor
from apps.recommend.engine.cooccurrence import CoOccurrencePredictor
from apps.recommend.engine.dataset import Context
from tests.recommend.engine.test_itemitem import GROUP_SIZE, N_COLD, _dataset, group_of, planted

#: listener -> tracks, small enough to count by hand
HAND_ROWS = [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 0), (2, 2), (3, 2), (3, 3)]
HAND_TRACKS = 5  # track 4: nobody


@pytest.fixture(scope="module")
def fitted() -> CoOccurrencePredictor:
    return CoOccurrencePredictor(k_neighbours=8).fit(planted())


def test_it_is_a_predictor(fitted: CoOccurrencePredictor) -> None:
    assert isinstance(fitted, Predictor)
    assert fitted.name == "cooccurrence"


def test_scores_are_the_log_mean_of_smoothed_conditional_probabilities() -> None:
    data = _dataset(HAND_ROWS, HAND_TRACKS)
    m = 1.0
    predictor = CoOccurrencePredictor(smoothing=m, min_count=1).fit(data)
    # listeners per track: 3, 2, 3, 1, 0 of 9 pairs; no catalogue prior, so the prior is uniform
    # and worth one listener: p = (count + 1/5) / (9 + 1)
    p = (np.array([3, 2, 3, 1, 0]) + 0.2) / 10.0
    np.testing.assert_allclose(predictor.popularity, p, rtol=1e-6)
    # history {0, 2}: track 1 is held with 0 by 2 of 3 listeners and with 2 by 1 of 3
    p_1_given_0 = (2 + m * p[1]) / (3 + m)
    p_1_given_2 = (1 + m * p[1]) / (3 + m)
    # track 3 is held with 2 by 1 listener, never with 0
    p_3_given_0 = (0 + m * p[3]) / (3 + m)
    p_3_given_2 = (1 + m * p[3]) / (3 + m)
    scores = predictor.score(Context(history=np.array([0, 2]))).scores
    offset = math.log(2)  # the mean's 1/|A| is left out: it ranks nothing
    assert scores[1] == pytest.approx(math.log((p_1_given_0 + p_1_given_2) / 2) + offset, 1e-5)
    assert scores[3] == pytest.approx(math.log((p_3_given_0 + p_3_given_2) / 2) + offset, 1e-5)
    # nobody's track 4 gets only the smoothing: popularity order, below everything held
    assert scores[4] < scores[3] < scores[1]


def test_a_track_is_never_its_own_neighbour() -> None:
    predictor = CoOccurrencePredictor(min_count=1).fit(_dataset(HAND_ROWS, HAND_TRACKS))
    for row, track in enumerate(predictor.active):
        lo, hi = predictor.indptr[row], predictor.indptr[row + 1]
        assert track not in predictor.indices[lo:hi]


def test_one_track_of_a_group_recommends_its_group(fitted: CoOccurrencePredictor) -> None:
    for track in (0, GROUP_SIZE + 2, 3 * GROUP_SIZE + 5):
        result = fitted.score(Context(history=np.array([track])))
        scores = result.scores.copy()
        scores[track] = -np.inf
        top = np.argsort(-scores, kind="stable")[: GROUP_SIZE - 1]
        assert {group_of(int(t)) for t in top} == {group_of(track)}
        assert result.confidence > 0


def test_no_known_history_ranks_by_popularity_with_no_confidence() -> None:
    data = _dataset(HAND_ROWS, HAND_TRACKS)
    predictor = CoOccurrencePredictor(min_count=1).fit(data)
    for history in ([], [4], [99]):  # empty, a track nobody holds, an unknown position
        result = predictor.score(Context(history=np.array(history, dtype=np.int64)))
        assert result.confidence == 0.0
        assert list(np.argsort(-result.scores, kind="stable")) == [0, 2, 1, 3, 4]


def test_candidates_select_scores(fitted: CoOccurrencePredictor) -> None:
    context = Context(history=np.array([0]))
    full = fitted.score(context).scores
    picked = fitted.score(context, np.array([5, 1, 0])).scores
    np.testing.assert_array_equal(picked, full[[5, 1, 0]])


def test_neighbour_lists_keep_the_k_most_frequent(monkeypatch: pytest.MonkeyPatch) -> None:
    data = planted(per_user=5)
    every = CoOccurrencePredictor(k_neighbours=1_000).fit(data)
    cut = CoOccurrencePredictor(k_neighbours=2).fit(data)
    for row in range(len(every.active)):
        lo, hi = every.indptr[row], every.indptr[row + 1]
        best = every.data[lo:hi]
        c_lo, c_hi = cut.indptr[row], cut.indptr[row + 1]
        assert c_hi - c_lo == min(2, hi - lo)
        np.testing.assert_array_equal(cut.indices[c_lo:c_hi], every.indices[lo : lo + 2])
        assert list(best) == sorted(best, reverse=True)
    # computing the counts a few rows at a time, or one row at a time, changes nothing
    for rows, products in ((3, 10**9), (10**6, 1)):
        monkeypatch.setattr(cooccurrence, "CHUNK_ROWS", rows)
        monkeypatch.setattr(cooccurrence, "CHUNK_PRODUCTS", products)
        chunked = CoOccurrencePredictor(k_neighbours=1_000).fit(data)
        np.testing.assert_array_equal(chunked.indptr, every.indptr)
        np.testing.assert_array_equal(chunked.indices, every.indices)
        np.testing.assert_allclose(chunked.data, every.data)


def test_equal_counts_at_the_cut_keep_the_lowest_track_positions() -> None:
    # track 0 is held with each of tracks 1..8 by one listener, and with track 9 by two
    rows = [(u, t) for u in range(8) for t in (0, u + 1)] + [(8, 0), (8, 9), (9, 0), (9, 9)]
    predictor = CoOccurrencePredictor(k_neighbours=3, min_count=1).fit(_dataset(rows, 10))
    row = int(np.flatnonzero(predictor.active == 0)[0])
    lo, hi = predictor.indptr[row], predictor.indptr[row + 1]
    # a plain argpartition keeps an arbitrary one of the tied tracks here (track 3)
    assert predictor.indices[lo:hi].tolist() == [9, 1, 2]


def test_rare_tracks_have_no_neighbour_list() -> None:
    rows = [*HAND_ROWS, (4, 4)]  # track 4 now has one listener
    predictor = CoOccurrencePredictor(min_count=2).fit(_dataset(rows, HAND_TRACKS))
    assert 3 not in predictor.active and 4 not in predictor.active
    assert predictor.score(Context(history=np.array([4]))).confidence == 0.0
    capped = CoOccurrencePredictor(min_count=1, max_items=2).fit(_dataset(rows, HAND_TRACKS))
    assert sorted(capped.active.tolist()) == [0, 2]  # the two most held


def test_because_and_similar_name_the_history_track(fitted: CoOccurrencePredictor) -> None:
    neighbours = fitted.similar(7, n=3)
    assert len(neighbours) == 3
    assert all(group_of(t) == group_of(7) and t != 7 for t, _ in neighbours)
    assert fitted.because(Context(history=np.array([0, GROUP_SIZE])), 3) == 0
    assert fitted.because(Context(history=np.array([0])), GROUP_SIZE + 3) is None
    cold = 4 * GROUP_SIZE + N_COLD - 1
    assert fitted.similar(cold) == []


def test_state_round_trip(fitted: CoOccurrencePredictor) -> None:
    arrays, meta = fitted.get_state()
    restored = CoOccurrencePredictor.from_state(arrays, meta)
    context = Context(history=np.array([0, 6]))
    np.testing.assert_array_equal(restored.score(context).scores, fitted.score(context).scores)
    assert restored.score(context).confidence == fitted.score(context).confidence
    assert restored.similar(7, 5) == fitted.similar(7, 5)


def test_bad_smoothing_is_refused() -> None:
    with pytest.raises(ValueError, match="smoothing"):
        CoOccurrencePredictor(smoothing=0).fit(planted())
