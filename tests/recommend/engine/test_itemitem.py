"""ItemItemPredictor: EASE on the active items, sparsified to the top-k weights per item."""

from __future__ import annotations

import numpy as np
import pytest

from apps.recommend.engine.base import Predictor
from apps.recommend.engine.dataset import Context, Dataset, Scores
from apps.recommend.engine.evaluation.baselines import EASE
from apps.recommend.engine.itemitem import WEIGHTINGS, ItemItemPredictor
from apps.recommend.engine.synthetic import generate

N_GROUPS = 4
GROUP_SIZE = 6
N_USERS = 120
#: Tracks after the grouped ones: the catalogue's long tail nobody played.
N_COLD = 10


def _dataset(rows: list[tuple[int, int]], n_tracks: int, weights: list[float] | None = None):
    users = np.array([u for u, _ in rows], dtype=np.int64)
    items = np.array([i for _, i in rows], dtype=np.int64)
    n_users = int(users.max()) + 1 if len(users) else 0
    w = np.ones(len(rows), dtype=np.float32) if weights is None else np.asarray(weights, "f4")
    return Dataset(
        listener_ids=np.array([f"u{u}" for u in range(n_users)], dtype=object),
        track_ids=np.array([f"t{i}" for i in range(n_tracks)], dtype=object),
        user=users,
        item=items,
        weight=w,
        timestamp=np.zeros(len(rows), dtype=np.float64),
    )


def planted(seed: int = 0, per_user: int = 4) -> Dataset:
    """Each listener plays 4 of the 6 tracks of one group: co-listening lives inside groups."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(N_USERS):
        g = u % N_GROUPS
        for c in rng.choice(GROUP_SIZE, per_user, replace=False):
            rows.append((u, g * GROUP_SIZE + int(c)))
    return _dataset(rows, N_GROUPS * GROUP_SIZE + N_COLD)


def group_of(track: int) -> int:
    return track // GROUP_SIZE


@pytest.fixture(scope="module")
def fitted() -> ItemItemPredictor:
    return ItemItemPredictor(lam=10.0, k_neighbours=8).fit(planted())


def test_it_is_a_predictor(fitted: ItemItemPredictor) -> None:
    assert isinstance(fitted, Predictor)
    assert fitted.name == "itemitem"


def test_planted_co_listening_is_recovered(fitted: ItemItemPredictor) -> None:
    for g in range(N_GROUPS):
        history = np.array([g * GROUP_SIZE, g * GROUP_SIZE + 1])
        answer = fitted.score(Context(history=history))
        ranked = [i for i in np.argsort(-answer.scores, kind="stable") if i not in history]
        assert {group_of(int(i)) for i in ranked[: GROUP_SIZE - 2]} == {g}
        assert answer.confidence > 0


def test_history_is_scored_not_excluded(fitted: ItemItemPredictor) -> None:
    history = np.array([0, 1, 2])
    scores = fitted.score(Context(history=history)).scores
    assert np.isfinite(scores[history]).all()  # the ensemble excludes history, not us
    others = np.setdiff1d(np.arange(len(scores)), history)
    best_other = others[np.argmax(scores[others])]
    assert group_of(int(best_other)) == 0
    # tracks of the history's group outrank every track of another group
    same = scores[[3, 4, 5]]
    other = scores[GROUP_SIZE : N_GROUPS * GROUP_SIZE]
    assert same.min() > other.max()


def test_matches_dense_ease_when_nothing_is_cut() -> None:
    data = planted(seed=3)
    ours = ItemItemPredictor(lam=25.0, k_neighbours=10_000, min_count=1).fit(data)
    baseline = EASE(lam=25.0).fit(data)
    history = np.array([0, 7, 13])
    a = ours.score(Context(history=history)).scores
    b = baseline.score(Context(history=history)).scores
    np.testing.assert_allclose(a[ours.active], b[ours.active], atol=1e-5)


@pytest.mark.parametrize("keep", ["magnitude", "largest"])
def test_sparsified_rows_keep_the_largest_weights(keep: str) -> None:
    data = planted(seed=1, per_user=5)
    k = 3
    full = ItemItemPredictor(lam=10.0, k_neighbours=10_000).fit(data)
    cut = ItemItemPredictor(lam=10.0, k_neighbours=k, keep=keep).fit(data)
    dense = full.weights.toarray()
    sparse = cut.weights
    assert np.array_equal(cut.active, full.active)
    for row in range(len(cut.active)):
        lo, hi = sparse.indptr[row], sparse.indptr[row + 1]
        kept, weights = sparse.indices[lo:hi], sparse.data[lo:hi]
        assert len(kept) == k
        assert cut.active[row] not in kept  # an item is never its own neighbour
        np.testing.assert_allclose(weights, dense[row, kept], rtol=1e-5)
        assert np.all(np.diff(weights) <= 0)  # stored best first
        values = dense[row].copy()
        values[cut.active[row]] = np.nan
        key = np.abs(values) if keep == "magnitude" else values
        threshold = np.sort(key[~np.isnan(key)])[-k]
        assert key[kept].min() >= threshold - 1e-6


def test_magnitude_keeps_strong_negative_weights() -> None:
    data = generate(n_tracks=150, n_interactions=4_000, seed=2).dataset
    cut = ItemItemPredictor(lam=20.0, k_neighbours=10, keep="magnitude").fit(data)
    largest = ItemItemPredictor(lam=20.0, k_neighbours=10, keep="largest").fit(data)
    assert (cut.data < 0).sum() > (largest.data < 0).sum()
    assert np.abs(cut.data).sum() > np.abs(largest.data).sum()


def test_empty_history_has_zero_confidence(fitted: ItemItemPredictor) -> None:
    answer = fitted.score(Context())
    assert answer.confidence == 0.0
    assert answer.scores.shape == (N_GROUPS * GROUP_SIZE + N_COLD,)
    assert np.isfinite(answer.scores).all()


def test_unseen_and_inactive_tracks_do_not_crash(fitted: ItemItemPredictor) -> None:
    n = N_GROUPS * GROUP_SIZE + N_COLD
    cold = N_GROUPS * GROUP_SIZE  # in the catalogue, never played
    answer = fitted.score(Context(history=np.array([-1, n + 5, cold])))
    assert answer.confidence == 0.0
    assert np.isfinite(answer.scores).all()
    assert fitted.similar(cold) == []
    assert fitted.similar(n + 5) == []
    assert fitted.because(Context(history=np.array([cold])), 0) is None
    assert fitted.because(Context(history=np.array([0])), n + 5) is None


def test_inactive_tracks_score_zero_below_active_ones(fitted: ItemItemPredictor) -> None:
    scores = fitted.score(Context()).scores
    cold = np.arange(N_GROUPS * GROUP_SIZE, N_GROUPS * GROUP_SIZE + N_COLD)
    assert (scores[cold] == 0).all()
    assert (scores[fitted.active] > 0).all()  # the popularity tie-breaker


def test_confidence_grows_with_active_history_and_data() -> None:
    small = ItemItemPredictor(lam=10.0).fit(_dataset([(0, 0), (0, 1), (1, 0), (1, 1)], 4))
    big = ItemItemPredictor(lam=10.0).fit(planted())
    confs = [big.score(Context(history=np.arange(n))).confidence for n in (1, 3, 10)]
    assert 0 < confs[0] < confs[1] < confs[2] <= 1
    assert small.score(Context(history=np.array([0]))).confidence < confs[0]


def test_candidates_are_aligned(fitted: ItemItemPredictor) -> None:
    context = Context(history=np.array([0, 1]))
    full = fitted.score(context).scores
    candidates = np.array([5, 2, 30])
    np.testing.assert_array_equal(fitted.score(context, candidates).scores, full[candidates])


def test_similar_returns_the_group(fitted: ItemItemPredictor) -> None:
    neighbours = fitted.similar(7, n=3)
    assert len(neighbours) == 3
    assert all(group_of(t) == 1 and t != 7 for t, _ in neighbours)
    assert [w for _, w in neighbours] == sorted((w for _, w in neighbours), reverse=True)


def test_because_names_the_contributing_history_track(fitted: ItemItemPredictor) -> None:
    context = Context(history=np.array([0, GROUP_SIZE]))  # one track of group 0, one of group 1
    assert fitted.because(context, 3) == 0
    assert fitted.because(context, GROUP_SIZE + 3) == GROUP_SIZE


def test_state_round_trip_gives_identical_answers(fitted: ItemItemPredictor) -> None:
    arrays, meta = fitted.get_state()
    assert all(isinstance(a, np.ndarray) for a in arrays.values())
    restored = ItemItemPredictor.from_state({k: a.copy() for k, a in arrays.items()}, meta)
    for history in ([], [0, 1], [3, 9, 15]):
        context = Context(history=np.array(history, dtype=np.int64))
        a, b = fitted.score(context), restored.score(context)
        np.testing.assert_array_equal(a.scores, b.scores)
        assert a.confidence == b.confidence
    assert restored.similar(7, 5) == fitted.similar(7, 5)
    assert restored.because(Context(history=np.array([0, 6])), 3) == 0


def test_max_items_keeps_the_most_played() -> None:
    rows = [(u, 0) for u in range(6)] + [(u, 1) for u in range(5)] + [(u, 2) for u in range(3)]
    rows += [(0, 3), (1, 3)]
    predictor = ItemItemPredictor(lam=1.0, max_items=3, min_count=2).fit(_dataset(rows, 6))
    assert predictor.active.tolist() == [0, 1, 2]
    assert ItemItemPredictor(lam=1.0, min_count=4).fit(_dataset(rows, 6)).active.tolist() == [
        0,
        1,
    ]


def test_lambda_is_chosen_from_the_grid_on_validation() -> None:
    # five tracks each, so listeners qualify for validation (at least five items)
    predictor = ItemItemPredictor(lam_grid=(1.0, 30.0, 3000.0)).fit(planted(per_user=5))
    assert set(predictor.tuning) == {"1.0", "30.0", "3000.0"}
    # the best validation score wins, and a tie goes to the smaller lam
    best = max(predictor.tuning.values())
    assert predictor.chosen_lam == min(float(k) for k, v in predictor.tuning.items() if v >= best)


def test_small_data_averages_the_choice_over_folds(monkeypatch: pytest.MonkeyPatch) -> None:
    folds: list[set[int]] = []  # the validation listeners of each call
    original = ItemItemPredictor._tune_fold

    def counting(self: ItemItemPredictor, *args: object) -> dict[tuple[str, float], float]:
        folds.append(set(np.asarray(args[-2]).tolist()))
        return original(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(ItemItemPredictor, "_tune_fold", counting)
    ItemItemPredictor(lam_grid=(1.0, 30.0), tune_folds=3).fit(planted(per_user=5))
    assert len(folds) == 3  # three disjoint folds of validation listeners
    assert all(folds[i].isdisjoint(folds[j]) for i in range(3) for j in range(i + 1, 3))
    ItemItemPredictor(lam_grid=(1.0, 30.0), tune_folds=1).fit(planted(per_user=5))
    assert len(folds) == 4


@pytest.mark.parametrize("weighting", ["binary", "log", "linear"])
def test_weightings_recover_the_groups(weighting: str) -> None:
    data = planted()
    data.weight = np.random.default_rng(0).integers(1, 6, data.n_interactions).astype("f4")
    predictor = ItemItemPredictor(lam=10.0, weighting=weighting).fit(data)
    answer: Scores = predictor.score(Context(history=np.array([0, 1])))
    top = np.argsort(-answer.scores)[:GROUP_SIZE]
    assert {group_of(int(i)) for i in top} == {0}


def test_unknown_options_are_refused() -> None:
    with pytest.raises(ValueError, match="weighting"):
        ItemItemPredictor(weighting="tfidf").fit(planted())
    with pytest.raises(ValueError, match="keep"):
        ItemItemPredictor(keep="smallest").fit(planted())


def test_no_data_answers_with_zero_confidence() -> None:
    predictor = ItemItemPredictor().fit(_dataset([], 5))
    answer = predictor.score(Context(history=np.array([0, 1])))
    assert answer.confidence == 0.0
    assert answer.scores.shape == (5,)
    assert predictor.similar(0) == []


def test_auto_weighting_is_chosen_with_lambda_when_weights_differ() -> None:
    data = planted(per_user=5)
    data.weight = np.random.default_rng(0).integers(1, 6, data.n_interactions).astype("f4")
    predictor = ItemItemPredictor(lam_grid=(1.0, 30.0)).fit(data)
    assert set(predictor.tuning) == {
        f"{weighting}:{lam}" for weighting in WEIGHTINGS for lam in (1.0, 30.0)
    }
    best = max(predictor.tuning.values())
    key = f"{predictor.chosen_weighting}:{predictor.chosen_lam}"
    assert predictor.tuning[key] == best


def test_equal_weights_only_try_binary() -> None:
    predictor = ItemItemPredictor(lam_grid=(1.0, 30.0)).fit(planted(per_user=5))
    assert set(predictor.tuning) == {"1.0", "30.0"}
    assert predictor.chosen_weighting == "binary"
