"""Train/validation/test splits for the evaluation protocols.

* :func:`strong_generalization_split` - Liang et al. 2018 ("Variational Autoencoders for
  Collaborative Filtering"): whole users are held out for validation and test; each held-out
  user's items are split 80/20 into a fold-in history and the items to predict.
* :func:`cold_start_cases` - the same test users, fed only demographics, or demographics and
  their first 1 or 3 items.
* :func:`msr_stratified_split` - MS Recommenders' ``python_stratified_split`` (ratio 0.75,
  ``filter_by="user"``, ``min_rating=1``) as their published benchmark ran it, row for row.

Every split works on item *positions* of the original dataset, so train and test share one
index space; nothing a test user holds out ever reaches the training data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from apps.recommend.engine.dataset import Context, Dataset

#: Liang et al. keep users with at least 5 positives, so each has a fold-in and a held-out part.
MIN_ITEMS_PER_HELDOUT_USER = 5
HELDOUT_FRACTION = 0.2
COLD_START_SLICES: dict[str, int] = {"demographics": 0, "demographics+1": 1, "demographics+3": 3}
FULL_SLICE = "full"


@dataclass
class EvalCase:
    """One listener to score: what is fed in (``context``) and what should come out."""

    user: int  # listener position in the original dataset
    context: Context
    relevant: np.ndarray  # held-out item positions (unique)


@dataclass
class HeldOutUser:
    user: int
    fold_in: np.ndarray  # item positions fed to the model, oldest first
    held_out: np.ndarray  # item positions to predict


@dataclass
class StrongSplit:
    train: Dataset
    validation: list[HeldOutUser]
    test: list[HeldOutUser]


def subset(dataset: Dataset, mask: np.ndarray) -> Dataset:
    """The interactions selected by ``mask``; listeners, tracks and features are shared."""
    return replace(
        dataset,
        user=dataset.user[mask],
        item=dataset.item[mask],
        weight=dataset.weight[mask],
        timestamp=dataset.timestamp[mask],
    )


def unique_pairs(dataset: Dataset, min_weight: float | None = None) -> Dataset:
    """One row per (listener, track): weights summed, latest timestamp kept.

    Rows below ``min_weight`` are dropped first (e.g. MovieLens ratings below 4 are not
    positives in Liang et al.'s protocol).
    """
    ds = dataset if min_weight is None else subset(dataset, dataset.weight >= min_weight)
    if ds.n_interactions == 0:
        return ds
    key = ds.user * np.int64(max(ds.n_tracks, 1)) + ds.item
    uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    if len(uniq) == len(key):
        return ds
    weight = np.zeros(len(uniq), dtype=np.float64)
    np.add.at(weight, inverse, ds.weight)
    stamp = np.full(len(uniq), -np.inf)
    np.maximum.at(stamp, inverse, ds.timestamp)
    by_first_seen = np.argsort(first)  # keep the first-seen row order
    rows = first[by_first_seen]
    return replace(
        ds,
        user=ds.user[rows],
        item=ds.item[rows],
        weight=weight[by_first_seen].astype(np.float32),
        timestamp=stamp[by_first_seen],
    )


def make_context(dataset: Dataset, user: int, history: np.ndarray) -> Context:
    """A request-time context for a listener of ``dataset`` holding ``history``."""
    ctx = Context(history=np.asarray(history, dtype=np.int64))
    people = dataset.listeners
    if people is not None:
        ctx.age = float(people.age[user])
        ctx.gender = str(people.gender[user])
        ctx.country = str(people.country[user])
        ctx.occupation = str(people.occupation[user])
    return ctx


def _items_by_user(dataset: Dataset) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """user -> (item positions, timestamps), in row order."""
    order = np.argsort(dataset.user, kind="stable")
    users = dataset.user[order]
    bounds = np.flatnonzero(np.diff(users)) + 1
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for chunk in np.split(order, bounds):
        if len(chunk):
            out[int(dataset.user[chunk[0]])] = (dataset.item[chunk], dataset.timestamp[chunk])
    return out


def strong_generalization_split(
    dataset: Dataset,
    seed: int,
    heldout_users: float = 0.15,
    min_weight: float | None = None,
) -> StrongSplit:
    """Hold out ``heldout_users`` of the listeners for validation and the same for test.

    Held-out listeners' items are restricted to items seen in training (as Liang et al. do: a
    model cannot be asked to rank an item it has never seen). 20% of each held-out listener's
    items (at least one) are held out at random; the rest are the fold-in history, oldest first.
    """
    ds = unique_pairs(dataset, min_weight)
    rng = np.random.default_rng(seed)
    per_user = _items_by_user(ds)
    counts = {u: len(items) for u, (items, _) in per_user.items()}
    eligible = np.array(
        sorted(u for u, n in counts.items() if n >= MIN_ITEMS_PER_HELDOUT_USER), dtype=np.int64
    )
    n_each = round(heldout_users * len(per_user))
    n_each = max(1, min(n_each, len(eligible) // 3))
    shuffled = rng.permutation(eligible)
    val_users, test_users = shuffled[:n_each], shuffled[n_each : 2 * n_each]
    heldout = np.zeros(ds.n_listeners, dtype=bool)
    heldout[val_users] = True
    heldout[test_users] = True
    train = subset(ds, ~heldout[ds.user])
    in_train = np.zeros(ds.n_tracks, dtype=bool)
    in_train[train.item] = True

    def split_user(user: int) -> HeldOutUser | None:
        items, stamps = per_user[user]
        keep = in_train[items]
        items, stamps = items[keep], stamps[keep]
        if len(items) < 2:
            return None
        perm = rng.permutation(len(items))
        n_out = max(1, int(HELDOUT_FRACTION * len(items)))
        out_idx, in_idx = perm[:n_out], perm[n_out:]
        in_idx = in_idx[np.argsort(stamps[in_idx], kind="stable")]
        return HeldOutUser(user=user, fold_in=items[in_idx], held_out=np.sort(items[out_idx]))

    validation = [h for u in sorted(val_users.tolist()) if (h := split_user(u)) is not None]
    test = [h for u in sorted(test_users.tolist()) if (h := split_user(u)) is not None]
    return StrongSplit(train=train, validation=validation, test=test)


def strong_cases(dataset: Dataset, users: list[HeldOutUser]) -> list[EvalCase]:
    """Feed the whole fold-in history, predict the held-out items."""
    return [EvalCase(h.user, make_context(dataset, h.user, h.fold_in), h.held_out) for h in users]


def cold_start_cases(dataset: Dataset, users: list[HeldOutUser], n_items: int) -> list[EvalCase]:
    """Feed demographics and only the first ``n_items`` of the fold-in history.

    The targets stay the held-out 20%, so the slices differ only in what is fed in.
    """
    return [
        EvalCase(h.user, make_context(dataset, h.user, h.fold_in[:n_items]), h.held_out)
        for h in users
        if len(h.fold_in) >= n_items
    ]


def msr_stratified_split(dataset: Dataset, ratio: float = 0.75, seed: int = 42) -> np.ndarray:
    """Reproduce MS Recommenders' ``python_stratified_split(data, ratio, seed=seed)``.

    Returns a boolean mask over ``dataset``'s rows: True = train. This is the implementation
    their published ML-100K benchmark table was produced with (``split_pandas_data_with_ratios``
    per user): each user's rows, in data order, are shuffled with
    ``DataFrame.sample(frac=1, random_state=seed)`` - i.e. ``RandomState(seed).permutation(n)``,
    a fresh generator per user - and the first ``round(ratio * n)`` go to train. ``dataset``
    must hold the rows in the order their loader reads them (``u.data`` order). With seed 42 a
    SAR model on this split scores exactly their published SAR row (see the tests).
    """
    n_rows = dataset.n_interactions
    mask = np.zeros(n_rows, dtype=bool)
    order = np.argsort(dataset.user, kind="stable")
    starts = np.r_[0, np.flatnonzero(np.diff(dataset.user[order])) + 1]
    stops = np.r_[starts[1:], n_rows]
    for start, stop in zip(starts.tolist(), stops.tolist(), strict=True):
        rows = order[start:stop]
        shuffled = rows[np.random.RandomState(seed).permutation(len(rows))]
        # Python's round() (half to even), as split_pandas_data_with_ratios uses.
        mask[shuffled[: round(ratio * len(rows))]] = True
    return mask


def msr_cases(train: Dataset, test: Dataset) -> list[EvalCase]:
    """Every test user with training rows: history = their training items, oldest first.

    MS Recommenders evaluate on the users common to the test set and the predictions, and
    predictions exist only for users seen in training.
    """
    train_items = _items_by_user(train)
    test_items = _items_by_user(test)
    cases = []
    for user in sorted(test_items):
        if user not in train_items:
            continue
        items, stamps = train_items[user]
        history = items[np.argsort(stamps, kind="stable")]
        cases.append(
            EvalCase(
                user,
                make_context(train, user, history),
                np.unique(test_items[user][0]),
            )
        )
    return cases


def heldout_user_count(split: StrongSplit) -> tuple[int, int]:
    return len(split.validation), len(split.test)


def describe_split(split: StrongSplit) -> str:
    n_val, n_test = heldout_user_count(split)
    mean_hist = float(np.mean([len(h.fold_in) for h in split.test])) if split.test else math.nan
    return (
        f"{len(np.unique(split.train.user))} train users, {n_val} validation users, "
        f"{n_test} test users (mean fold-in {mean_hist:.1f} items)"
    )
