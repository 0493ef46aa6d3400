"""The splits never leak a held-out item into training, and reproduce MS Recommenders' split."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from apps.recommend.engine.dataset import Dataset
from apps.recommend.engine.evaluation import splits
from apps.recommend.engine.evaluation.readers import load_dataset
from tests.conftest import SHARED_DATA
from tests.recommend.evaluation.planted import USERS


def _pairs(ds: Dataset) -> set[tuple[int, int]]:
    return set(zip(ds.user.tolist(), ds.item.tolist(), strict=True))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_strong_split_holds_out_whole_users_and_never_leaks(planted: Dataset, seed: int) -> None:
    split = splits.strong_generalization_split(planted, seed, heldout_users=0.15)
    train_users = set(split.train.user.tolist())
    val = {h.user for h in split.validation}
    test = {h.user for h in split.test}
    assert len(val) == len(test) == round(0.15 * USERS)
    assert not (train_users & val) and not (train_users & test) and not (val & test)
    train_pairs = _pairs(split.train)
    train_items = set(split.train.item.tolist())
    for h in split.validation + split.test:
        assert not set(h.fold_in.tolist()) & set(h.held_out.tolist())
        assert all((h.user, int(i)) not in train_pairs for i in h.held_out)
        assert set(h.held_out.tolist()) <= train_items  # only items a model could know
        n = len(h.fold_in) + len(h.held_out)
        assert len(h.held_out) == max(1, int(0.2 * n))
    # fold-in histories are oldest first
    for h in split.test:
        stamps = {
            int(i): t
            for u, i, t in zip(planted.user, planted.item, planted.timestamp, strict=True)
            if u == h.user
        }
        assert [stamps[int(i)] for i in h.fold_in] == sorted(stamps[int(i)] for i in h.fold_in)


def test_strong_split_is_deterministic_per_seed(planted: Dataset) -> None:
    a = splits.strong_generalization_split(planted, 7)
    b = splits.strong_generalization_split(planted, 7)
    c = splits.strong_generalization_split(planted, 8)
    assert [h.user for h in a.test] == [h.user for h in b.test]
    assert all(np.array_equal(x.held_out, y.held_out) for x, y in zip(a.test, b.test, strict=True))
    assert [h.user for h in a.test] != [h.user for h in c.test]


def test_min_weight_drops_non_positives(planted: Dataset) -> None:
    weights = np.where(np.arange(planted.n_interactions) % 2 == 0, 5.0, 2.0).astype(np.float32)
    ds = replace(planted, weight=weights)
    split = splits.strong_generalization_split(ds, 0, min_weight=4.0)
    assert (split.train.weight >= 4.0).all()
    low = {(int(u), int(i)) for u, i, w in zip(ds.user, ds.item, ds.weight, strict=True) if w < 4}
    for h in split.test:
        assert all((h.user, int(i)) not in low for i in np.r_[h.fold_in, h.held_out])


def test_cold_start_feeds_only_the_first_items(planted: Dataset) -> None:
    split = splits.strong_generalization_split(planted, 0)
    for n in (0, 1, 3):
        cases = splits.cold_start_cases(split.train, split.test, n)
        assert len(cases) == len(split.test)
        for case, h in zip(cases, split.test, strict=True):
            assert case.context.history.tolist() == h.fold_in[:n].tolist()
            assert case.relevant.tolist() == h.held_out.tolist()
            assert case.context.gender in ("m", "f")  # demographics are fed


def test_unique_pairs_sums_weights_and_keeps_latest_time(planted: Dataset) -> None:
    ds = replace(
        planted,
        user=np.array([0, 1, 0, 0]),
        item=np.array([5, 5, 5, 6]),
        weight=np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32),
        timestamp=np.array([10.0, 20.0, 30.0, 40.0]),
    )
    out = splits.unique_pairs(ds)
    assert out.user.tolist() == [0, 1, 0]
    assert out.item.tolist() == [5, 5, 6]
    assert out.weight.tolist() == [4.0, 2.0, 4.0]
    assert out.timestamp.tolist() == [30.0, 20.0, 40.0]


def test_msr_split_is_stratified_per_user_and_never_leaks(planted: Dataset) -> None:
    mask = splits.msr_stratified_split(planted, 0.75, 42)
    train, test = splits.subset(planted, mask), splits.subset(planted, ~mask)
    assert not _pairs(train) & _pairs(test)
    for u in range(USERS):
        n = int((planted.user == u).sum())
        assert int((train.user == u).sum()) == round(0.75 * n)
    cases = splits.msr_cases(train, test)
    for case in cases:
        assert not set(case.context.history.tolist()) & set(case.relevant.tolist())
    assert np.array_equal(mask, splits.msr_stratified_split(planted, 0.75, 42))
    assert not np.array_equal(mask, splits.msr_stratified_split(planted, 0.75, 43))


def test_msr_split_shuffles_each_user_like_pandas_sample() -> None:
    # One user with 8 rows in data order: train = first round(0.75 * 8) = 6 of
    # RandomState(42).permutation(8), exactly as DataFrame.sample(frac=1, random_state=42).
    ds = Dataset(
        listener_ids=np.array(["a"], dtype=object),
        track_ids=np.array([str(i) for i in range(8)], dtype=object),
        user=np.zeros(8, dtype=np.int64),
        item=np.arange(8, dtype=np.int64),
        weight=np.ones(8, dtype=np.float32),
        timestamp=np.zeros(8),
    )
    expected = np.zeros(8, dtype=bool)
    expected[np.random.RandomState(42).permutation(8)[:6]] = True
    assert np.array_equal(splits.msr_stratified_split(ds, 0.75, 42), expected)


@pytest.mark.shared_data
def test_msr_split_on_movielens_matches_their_published_sizes() -> None:
    ds = load_dataset("ml-100k", SHARED_DATA).dataset
    mask = splits.msr_stratified_split(ds, 0.75, 42)
    # sar_movielens.ipynb prints: train 74,992 ratings / 943 users / 1,649 items; test 25,008
    assert int(mask.sum()) == 74_992
    assert len(np.unique(ds.item[mask])) == 1_649
    assert len(np.unique(ds.user[~mask])) == 943
    assert len(np.unique(ds.item[~mask])) == 1_444
