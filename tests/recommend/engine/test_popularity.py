from __future__ import annotations

import numpy as np

from apps.recommend.engine.dataset import Context, ListenerFeatures, TrackFeatures
from apps.recommend.engine.popularity import (
    REASON_POPULAR,
    REASON_PRIOR,
    REASON_TRENDING,
    PopularityPredictor,
)
from tests.recommend.engine.planted import make_dataset

DAY = 86_400.0
NOW = 1_700_000_000.0


def test_recent_interactions_outrank_older_ones() -> None:
    # track 0: 10 plays 60 days ago; track 1: 4 plays today
    users = list(range(14))
    items = [0] * 10 + [1] * 4
    ts = [NOW - 60 * DAY] * 10 + [NOW] * 4
    predictor = PopularityPredictor(half_life_s=7 * DAY, prior_strength=1.0).fit(
        make_dataset(users, items, 14, 3, timestamps=ts)
    )

    scores = predictor.score(Context()).scores

    assert scores[1] > scores[0] > scores[2]
    assert predictor.explain(Context(), 1) == REASON_TRENDING


def test_longer_half_life_keeps_old_hits_on_top() -> None:
    users = list(range(14))
    items = [0] * 10 + [1] * 4
    ts = [NOW - 60 * DAY] * 10 + [NOW] * 4
    predictor = PopularityPredictor(half_life_s=365 * DAY).fit(
        make_dataset(users, items, 14, 3, timestamps=ts)
    )

    scores = predictor.score(Context()).scores

    assert scores[0] > scores[1]


def test_prior_answers_with_no_interactions() -> None:
    tracks = TrackFeatures.empty(4)
    tracks.popularity = np.array([10, 1000, 0, 50], dtype=np.float32)
    predictor = PopularityPredictor().fit(make_dataset([], [], 0, 4, tracks=tracks))

    answer = predictor.score(Context())

    assert list(np.argsort(-answer.scores)) == [1, 3, 0, 2]
    assert 0 < answer.confidence < 0.5
    assert predictor.explain(Context(), 1) == REASON_PRIOR


def test_per_group_popularity_follows_the_group() -> None:
    lf = ListenerFeatures(
        age=np.array([20.0] * 30 + [60.0] * 30, dtype=np.float32),
        gender=np.array(["f"] * 60, dtype=object),
        country=np.full(60, "", dtype=object),
        occupation=np.full(60, "", dtype=object),
    )
    users = list(range(60))
    items = [0] * 30 + [1] * 30
    predictor = PopularityPredictor(by_group=True).fit(
        make_dataset(users, items, 60, 2, timestamps=[NOW] * 60, listeners=lf)
    )

    young = predictor.score(Context(age=21, gender="f")).scores
    old = predictor.score(Context(age=61, gender="f")).scores

    assert young[0] > young[1]
    assert old[1] > old[0]


def _weekly(pick: object, n_listeners: int = 100, weeks: int = 10) -> PopularityPredictor:
    """Each listener adds one track per week, chosen by ``pick(rng, week)``."""
    rng = np.random.default_rng(0)
    users, items, ts = [], [], []
    for user in range(n_listeners):
        for week in range(weeks):
            users.append(user)
            items.append(int(pick(rng, week)))  # type: ignore[operator]
            ts.append(NOW - (weeks - 1 - week) * 7 * DAY + rng.uniform(0, DAY))
    return PopularityPredictor().fit(make_dataset(users, items, n_listeners, 300, timestamps=ts))


def test_half_life_is_short_when_listeners_follow_what_is_new() -> None:
    # every week has its own five hits: all-time counts cannot tell this week's from the first
    predictor = _weekly(lambda rng, week: week * 5 + rng.integers(5))

    assert predictor.chosen_half_life_s <= 30 * DAY
    assert predictor.tuning["3650d"] < max(predictor.tuning.values())
    assert predictor.explain(Context(), 9 * 5) == REASON_TRENDING


def test_half_life_is_long_when_favourites_last() -> None:
    # twenty evergreen favourites, half of all adds; the rest spread over 250 other tracks
    def pick(rng: np.random.Generator, week: int) -> int:
        return int(rng.integers(20)) if rng.random() < 0.5 else int(50 + rng.integers(250))

    predictor = _weekly(pick)

    # over ten weeks of data 30 days and more rank alike; ties go to the shorter
    assert predictor.chosen_half_life_s >= 30 * DAY
    assert predictor.tuning["1d"] < max(predictor.tuning.values())
    assert predictor.explain(Context(), 0) == REASON_POPULAR


def test_a_given_half_life_is_not_tuned() -> None:
    predictor = PopularityPredictor(half_life_s=3 * DAY).fit(
        make_dataset(list(range(40)) * 5, [i % 7 for i in range(200)], 40, 7)
    )
    assert predictor.chosen_half_life_s == 3 * DAY
    assert predictor.tuning == {}
