from __future__ import annotations

import numpy as np
import pytest

from apps.recommend.engine.dataset import Context, ListenerFeatures
from apps.recommend.engine.demographic import DemographicPredictor
from tests.recommend.engine.planted import make_dataset

GROUP_FAVOURITE, GLOBAL_FAVOURITE = 5, 7


def _planted() -> tuple[DemographicPredictor, int]:
    """40 young French women all add track 5; 200 other listeners all add track 7."""
    n_group, n_rest, n_tracks = 40, 200, 30
    n = n_group + n_rest
    lf = ListenerFeatures(
        age=np.array([22.0] * n_group + [50.0] * n_rest, dtype=np.float32),
        gender=np.array(["f"] * n_group + ["m"] * n_rest, dtype=object),
        country=np.array(["FR"] * n_group + ["US"] * n_rest, dtype=object),
        occupation=np.array(["student"] * n_group + ["engineer"] * n_rest, dtype=object),
    )
    rng = np.random.default_rng(0)
    users, items = [], []
    for u in range(n):
        fav = GROUP_FAVOURITE if u < n_group else GLOBAL_FAVOURITE
        picks = [
            fav,
            *rng.choice([i for i in range(n_tracks) if i not in (5, 7)], 3, replace=False),
        ]
        users += [u] * len(picks)
        items += [int(i) for i in picks]
    return DemographicPredictor().fit(
        make_dataset(users, items, n, n_tracks, listeners=lf)
    ), n_tracks


def test_group_favourite_wins_for_a_new_member_of_the_group() -> None:
    predictor, _ = _planted()
    newcomer = Context(age=23, gender="F", country="fr", occupation="student")

    answer = predictor.score(newcomer)

    assert int(np.argmax(answer.scores)) == GROUP_FAVOURITE
    assert 0 < answer.confidence <= 1


def test_unknown_demographics_get_global_taste_with_zero_confidence() -> None:
    predictor, _ = _planted()

    answer = predictor.score(Context())

    assert int(np.argmax(answer.scores)) == GLOBAL_FAVOURITE
    assert answer.confidence == 0.0


def test_confidence_grows_with_support() -> None:
    predictor, _ = _planted()
    small = predictor.score(Context(country="FR")).confidence  # 40 listeners
    large = predictor.score(Context(country="US")).confidence  # 200 listeners

    assert 0 < small < large


def test_candidates_select_scores() -> None:
    predictor, _ = _planted()
    ctx = Context(age=23, gender="f")
    full = predictor.score(ctx).scores

    part = predictor.score(ctx, np.array([7, 5])).scores

    np.testing.assert_array_equal(part, full[[7, 5]])


def _one_heavy_one_light(normalise: bool) -> np.ndarray:
    """Two listeners of one group: one added track 0 ten times over, the other track 1 once."""
    lf = ListenerFeatures(
        age=np.array([30.0, 30.0], dtype=np.float32),
        gender=np.array(["f", "f"], dtype=object),
        country=np.array(["FR", "FR"], dtype=object),
        occupation=np.array(["", ""], dtype=object),
    )
    users, items = [0] * 10 + [1], [0] * 10 + [1]
    predictor = DemographicPredictor(normalise=normalise, shrinkage=0.0)
    predictor.fit(make_dataset(users, items, 2, 3, listeners=lf))
    return predictor.score(Context(age=30.0, gender="f", country="FR")).scores


def test_raw_counts_weigh_each_interaction() -> None:
    scores = _one_heavy_one_light(normalise=False)
    assert scores[0] > scores[1]


def test_normalised_counts_weigh_each_listener_once() -> None:
    scores = _one_heavy_one_light(normalise=True)
    assert scores[0] == pytest.approx(scores[1], abs=1e-5)
