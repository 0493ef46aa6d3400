"""The served ensemble (EngineBundle): blending, fallbacks, caps, calibration, persistence."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from apps.recommend.engine.bundle import (
    WINDOWS_PER_LISTENER,
    BundleError,
    EngineBundle,
    load_bundle,
)
from apps.recommend.engine.bundle.calibration import monotone_bins
from apps.recommend.engine.bundle.ranking import capped_top, fallback_order
from apps.recommend.engine.bundle.tuning import (
    clear_gain,
    hold_out_validation,
    per_listener,
    slice_cases,
)
from apps.recommend.engine.cooccurrence import CoOccurrencePredictor
from apps.recommend.engine.dataset import Context, Dataset, Scores, TrackFeatures
from apps.recommend.engine.itemitem import ItemItemPredictor
from apps.recommend.engine.popularity import PopularityPredictor
from apps.recommend.engine.synthetic import SyntheticData, generate


@pytest.fixture(scope="module")
def synthetic() -> SyntheticData:
    return generate(n_tracks=600, n_interactions=12_000, seed=3)


@pytest.fixture(scope="module")
def fitted(synthetic: SyntheticData) -> EngineBundle:
    bundle = EngineBundle(seed=0)
    bundle.fit(synthetic.dataset)
    bundle.titles = synthetic.titles
    return bundle


def _context_of(dataset: Dataset, user: int, n: int = 10) -> Context:
    items = dataset.item[dataset.user == user][:n]
    lf = dataset.listeners
    assert lf is not None
    return Context(
        history=items.astype(np.int64),
        age=float(lf.age[user]),
        gender=str(lf.gender[user]),
        country=str(lf.country[user]),
        occupation=str(lf.occupation[user]),
    )


def test_quality_is_measured_on_held_out_items(fitted: EngineBundle) -> None:
    ndcg = fitted.metadata["validation_ndcg10"]
    assert set(ndcg) == {*fitted.predictors, "ensemble"}
    assert max(fitted.quality.values()) == pytest.approx(1.0)
    assert set(fitted.slice_quality) == {"cold", "one", "short", "warm"}
    # per slice a curve for the top pick and one for any top-10 track
    assert fitted.calibration_x.shape == (8, 10)
    assert all(0 <= q <= 1.0 for q in fitted.quality.values())


def test_blend_does_not_lose_to_its_members_on_validation(fitted: EngineBundle) -> None:
    """The tuning starts from one predictor alone and only accepts clear gains."""
    by_slice = fitted.metadata["validation_ndcg10_by_slice"]
    for slice_name, ndcg in by_slice.items():
        # never below the simplest predictor, where every blend starts
        assert ndcg["ensemble"] >= ndcg["popularity"] - 1e-6, slice_name
    # with long histories item-item is far ahead of the rest here: it must take the lead
    warm = by_slice["warm"]
    assert warm["itemitem"] > 2 * warm["popularity"]
    assert warm["ensemble"] >= max(warm[name] for name in fitted.predictors) - 1e-6


def test_only_a_clear_gain_changes_the_blend() -> None:
    rng = np.random.default_rng(0)
    current = rng.uniform(0, 1, 300)
    assert not clear_gain(current.copy(), current)
    assert clear_gain(current + 0.01, current)  # every listener gains
    noisy = current + rng.normal(0.003, 0.2, 300)  # a small mean gain, much noise
    assert not clear_gain(noisy, current)


@dataclass
class _Noise:
    """A confident predictor that knows nothing."""

    name: str = "noise"
    n_tracks: int = 0

    def fit(self, dataset: Dataset) -> _Noise:
        self.n_tracks = dataset.n_tracks
        return self

    def score(self, context: Context, candidates: np.ndarray | None = None) -> Scores:
        scores = np.random.default_rng(len(context.history)).random(self.n_tracks)
        return Scores(scores if candidates is None else scores[candidates], 1.0)


def test_a_confident_predictor_that_knows_nothing_is_switched_off(
    synthetic: SyntheticData,
) -> None:
    popularity = PopularityPredictor()
    itemitem = ItemItemPredictor()
    bundle = EngineBundle(
        predictors={"popularity": popularity, "itemitem": itemitem, "noise": _Noise()}
    ).fit(synthetic.dataset)
    assert bundle.slice_quality["warm"]["noise"] == 0.0
    assert bundle.slice_quality["warm"]["itemitem"] == 1.0


@dataclass
class _Silent:
    """Item-item's scores, but never speaking: confidence 0 for everyone."""

    name: str = "silent"
    inner: ItemItemPredictor = field(default_factory=ItemItemPredictor)

    def fit(self, dataset: Dataset) -> _Silent:
        self.inner.fit(dataset)
        return self

    def score(self, context: Context, candidates: np.ndarray | None = None) -> Scores:
        return Scores(self.inner.score(context, candidates).scores, 0.0)


def test_a_predictor_that_never_speaks_never_leads(synthetic: SyntheticData) -> None:
    """Alone its scores beat popularity by far on long histories, but with a confidence of 0
    it has no weight when served, so the tuning must not count on it."""
    bundle = EngineBundle(
        predictors={"popularity": PopularityPredictor(), "silent": _Silent()}
    ).fit(synthetic.dataset)
    warm = bundle.metadata["validation_ndcg10_by_slice"]["warm"]
    assert warm["silent"] > 2 * warm["popularity"]
    for weights in bundle.slice_quality.values():
        assert weights == {"popularity": 1.0, "silent": 0.0}
    assert "silent" not in " ".join(bundle.chosen_settings().values())


def test_short_slices_get_several_windows_per_listener() -> None:
    contexts = [
        Context(history=np.arange(10, dtype=np.int64)),
        Context(history=np.array([7, 8], dtype=np.int64)),
    ]
    targets = [np.array([20]), np.array([21])]
    one, one_targets, listener = slice_cases(contexts, targets, 1)
    assert [c.history.tolist() for c in one] == [
        *[[i] for i in range(WINDOWS_PER_LISTENER)],
        [7],
        [8],
    ]
    assert listener.tolist() == [0] * WINDOWS_PER_LISTENER + [1, 1]
    assert [t.tolist() for t in one_targets] == [[20]] * WINDOWS_PER_LISTENER + [[21], [21]]
    short, _, listener = slice_cases(contexts, targets, 3)
    assert short[1].history.tolist() == [1, 2, 3]
    assert short[-1].history.tolist() == [7, 8]  # too short for a second window
    assert listener[-1] == 1 and (listener == 1).sum() == 1
    for fed in (0, None):  # demographics only, or everything shown: one case each
        cases, _, listener = slice_cases(contexts, targets, fed)
        assert listener.tolist() == [0, 1]
        assert len(cases[0].history) == (0 if fed == 0 else 10)


def test_gains_are_compared_per_listener() -> None:
    gains = np.array([1.0, 0.0, 0.5, 0.25, 0.75])
    np.testing.assert_allclose(per_listener(gains, np.array([0, 0, 1, 2, 2])), [0.5, 0.5, 0.5])
    # one listener's many windows count as one listener: a gain on one listener alone, however
    # many windows it has, is no clear gain
    current = np.zeros(40)
    trial = current.copy()
    trial[:20] = 0.5
    listener = np.r_[np.zeros(20, dtype=np.int64), np.arange(1, 21)]
    assert clear_gain(trial, current)  # as if 40 listeners: 20 gained
    assert not clear_gain(per_listener(trial, listener), per_listener(current, listener))


@pytest.mark.parametrize(
    ("length", "expected"),
    [(0, "cold"), (1, "one"), (2, "one"), (3, "short"), (4, "short"), (5, "warm"), (50, "warm")],
)
def test_each_history_length_has_its_slice(length: int, expected: str) -> None:
    context = Context(history=np.arange(length, dtype=np.int64))
    assert EngineBundle._slice_of(context) == expected


def test_small_data_is_refitted_on_everything_after_tuning(synthetic: SyntheticData) -> None:
    itemitem = ItemItemPredictor()
    bundle = EngineBundle(predictors={"itemitem": itemitem}).fit(synthetic.dataset)
    dataset = synthetic.dataset
    pairs = len(np.unique(dataset.user.astype(np.int64) * dataset.n_tracks + dataset.item))
    assert bundle.metadata["refit_on_all_data"] is True
    assert itemitem.n_interactions == pairs  # the held-out validation items are back


def _validation_split(
    dataset: Dataset, holdout: str
) -> tuple[Dataset, list[Context], list[np.ndarray]] | None:
    """The split the bundle validates on (with the bundle's seed 0)."""
    return hold_out_validation(dataset, np.random.default_rng(0), holdout)


def _hidden_after_shown(dataset: Dataset, holdout: str) -> list[bool]:
    """Per validation listener: were all hidden interactions newer than every kept one?"""
    held = _validation_split(dataset, holdout)
    assert held is not None
    train, contexts, targets = held
    assert len(contexts) == len(targets) > 0
    kept = Counter(zip(train.user.tolist(), train.timestamp.tolist(), strict=True))
    rows = Counter(zip(dataset.user.tolist(), dataset.timestamp.tolist(), strict=True))
    hidden = list((rows - kept).elements())
    assert len(hidden) == dataset.n_interactions - train.n_interactions > 0
    answers = []
    for user in sorted({u for u, _ in hidden}):
        newest_kept = max(t for u, t in kept if u == user)
        answers.append(min(t for u, t in hidden if u == user) >= newest_kept)
    return answers


def test_validation_hides_each_listeners_latest_items(synthetic: SyntheticData) -> None:
    assert all(_hidden_after_shown(synthetic.dataset, "latest"))


def test_random_validation_hides_items_from_anywhere_in_the_history(
    synthetic: SyntheticData,
) -> None:
    assert not all(_hidden_after_shown(synthetic.dataset, "random"))


def test_an_unknown_holdout_is_refused(synthetic: SyntheticData) -> None:
    with pytest.raises(ValueError, match="holdout"):
        _validation_split(synthetic.dataset, "oldest")


def test_recommend_excludes_history_and_explains(
    fitted: EngineBundle, synthetic: SyntheticData
) -> None:
    context = _context_of(synthetic.dataset, 0)
    recs = fitted.recommend(context, 10)
    assert len(recs) == 10
    assert not {r.track for r in recs} & set(context.history.tolist())
    for r in recs:
        assert 0.0 <= r.confidence <= 1.0
        assert r.reason
        assert sum(r.shares.values()) == pytest.approx(1.0, abs=1e-3)


def test_blend_beats_popularity_on_genre_structure(
    fitted: EngineBundle, synthetic: SyntheticData
) -> None:
    """Listeners pick mostly from their favourite genres: the ensemble must find them."""
    dataset = synthetic.dataset
    hits_ensemble = hits_popularity = 0
    popularity = fitted.predictors["popularity"]
    for user in range(40):
        context = _context_of(dataset, user)
        favourite = set(synthetic.listener_genres[user].tolist())
        top = [r.track for r in fitted.recommend(context, 10)]
        hits_ensemble += sum(int(synthetic.track_genre[t]) in favourite for t in top)
        pop = np.asarray(popularity.score(context).scores).copy()
        pop[context.history] = -np.inf
        hits_popularity += sum(
            int(synthetic.track_genre[t]) in favourite for t in np.argsort(-pop)[:10]
        )
    assert hits_ensemble > 1.5 * hits_popularity


def test_never_empty_for_a_stranger(fitted: EngineBundle) -> None:
    recs = fitted.recommend(Context(), 10)
    assert len(recs) == 10


def test_fallback_when_every_confidence_is_zero() -> None:
    """No interactions at all: the popularity prior still ranks the catalogue."""
    n = 30
    tracks = TrackFeatures.empty(n)
    tracks.popularity[:] = np.arange(n, dtype=np.float32)
    tracks.artist[:] = np.arange(n)
    empty = np.zeros(0, dtype=np.int64)
    dataset = Dataset(
        listener_ids=empty,
        track_ids=np.arange(100, 100 + n),
        user=empty,
        item=empty,
        weight=np.zeros(0, dtype=np.float32),
        timestamp=np.zeros(0),
        tracks=tracks,
    )
    bundle = EngineBundle(measure_quality=False).fit(dataset)
    recs = bundle.recommend(Context(), 5)
    assert [r.track for r in recs] == [29, 28, 27, 26, 25]


def test_the_fallback_is_the_predictor_the_slice_trusts_most(
    fitted: EngineBundle, synthetic: SyntheticData
) -> None:
    assert fallback_order({"model": 0.0, "cooccurrence": 1.0, "popularity": 0.25})[:3] == [
        "cooccurrence",
        "popularity",
        "model",
    ]
    # a one-song slice led by popularity, and a listener for whom no predictor speaks: they get
    # popularity's order, not the model's
    bundle = EngineBundle(
        predictors={name: _Muted(p) for name, p in fitted.predictors.items()},
        slice_quality={**fitted.slice_quality, "one": {"popularity": 1.0}},
        confidence_scale=fitted.confidence_scale,
        track_ids=fitted.track_ids,
        artist=fitted.artist,
    )
    _, parts, _ = bundle._blend(_context_of(synthetic.dataset, 3, n=1))
    assert list(parts) == ["popularity"]  # FALLBACK_ORDER alone would pick the model


@dataclass
class _Muted:
    """A fitted predictor's scores with confidence 0."""

    inner: object
    name: str = "muted"

    def score(self, context: Context, candidates: np.ndarray | None = None) -> Scores:
        return Scores(self.inner.score(context, candidates).scores, 0.0)  # type: ignore[attr-defined]


def test_a_co_occurrence_pick_names_the_song_behind_it(synthetic: SyntheticData) -> None:
    bundle = EngineBundle(predictors={"cooccurrence": CoOccurrencePredictor()}).fit(
        synthetic.dataset
    )
    bundle.titles = synthetic.titles
    context = _context_of(synthetic.dataset, 7, n=1)
    top = bundle.recommend(context, 1)[0]
    assert top.shares == {"cooccurrence": 1.0}
    assert top.reason == f"Because you added “{synthetic.titles[int(context.history[0])]}”"


def test_small_data_still_gets_a_calibration() -> None:
    """Too few validation listeners for a top-pick curve: the rest of the top 10's stands in."""
    data = generate(n_tracks=400, n_interactions=6_000, seed=3).dataset
    bundle = EngineBundle(predictors={"popularity": PopularityPredictor()}).fit(data)
    assert bundle.calibration_x.shape == (8, 10)


def test_artist_cap_in_every_block_of_ten() -> None:
    scores = np.linspace(1.0, 0.0, 40, dtype=np.float32)
    artist = np.array([0] * 20 + list(range(1, 21)))
    chosen = capped_top(scores, artist, 20)
    assert len(chosen) == 20
    assert sum(artist[t] == 0 for t in chosen[:10]) == 2
    assert sum(artist[t] == 0 for t in chosen[10:]) <= 2
    assert chosen[:2] == [0, 1]  # the best two of the busy artist stay on top


def test_calibration_is_monotone_and_tracks_hit_rate() -> None:
    rng = np.random.default_rng(0)
    raw = rng.uniform(0, 1, 5_000)
    hits = (rng.uniform(0, 1, 5_000) < raw).astype(float)  # true hit rate == raw
    xs, ys = monotone_bins(raw, hits)
    assert np.all(np.diff(ys) >= 0)
    assert np.interp(0.9, xs, ys) == pytest.approx(0.9, abs=0.08)
    assert np.interp(0.1, xs, ys) == pytest.approx(0.1, abs=0.08)


def test_the_top_pick_has_its_own_calibration(
    fitted: EngineBundle, synthetic: SyntheticData
) -> None:
    bundle = EngineBundle(
        predictors=fitted.predictors,
        slice_quality=fitted.slice_quality,
        confidence_scale=fitted.confidence_scale,
        track_ids=fitted.track_ids,
        artist=fitted.artist,
    )
    # per slice: the top pick hits 60% of the time at any score, other top-10 tracks 10%
    bundle.calibration_x = np.tile(np.linspace(-1.0, 1.0, 10, dtype=np.float32), (8, 1))
    bundle.calibration_y = np.tile(np.array([[0.6] * 10, [0.1] * 10], dtype=np.float32), (4, 1))
    context = _context_of(synthetic.dataset, 5)
    assert bundle.score(context).confidence == pytest.approx(0.6)
    confidences = [r.confidence for r in bundle.recommend(context, 10)]
    assert confidences[0] == pytest.approx(0.6)
    assert confidences[1:] == pytest.approx([0.1] * 9)
    # slices pick their own rows: the cold slice's top pick is row 0
    bundle.calibration_y[0] = 0.3
    assert bundle.score(_context_of(synthetic.dataset, 5, n=0)).confidence == pytest.approx(0.3)


def test_a_lower_rank_is_never_more_confident(
    fitted: EngineBundle, synthetic: SyntheticData
) -> None:
    for user in range(20):
        recs = fitted.recommend(_context_of(synthetic.dataset, user), 10)
        confidences = [r.confidence for r in recs]
        assert confidences == sorted(confidences, reverse=True)


def test_save_load_round_trip_and_refuse_corruption(
    fitted: EngineBundle, synthetic: SyntheticData, tmp_path: Path
) -> None:
    path = tmp_path / "v1.bundle"
    fitted.save(path)
    loaded = load_bundle(path)
    context = _context_of(synthetic.dataset, 5)
    assert [r.track for r in loaded.recommend(context, 10)] == [
        r.track for r in fitted.recommend(context, 10)
    ]
    assert loaded.quality == fitted.quality

    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(BundleError, match="checksum"):
        load_bundle(path)
    with pytest.raises(BundleError, match="cannot read"):
        load_bundle(tmp_path / "missing.bundle")


def test_other_format_version_is_refused(fitted: EngineBundle, tmp_path: Path) -> None:
    from apps.recommend.engine.bundle import persistence

    path = tmp_path / "old.bundle"
    original = persistence.FORMAT_VERSION
    persistence.FORMAT_VERSION = original + 1
    try:
        fitted.save(path)
    finally:
        persistence.FORMAT_VERSION = original
    with pytest.raises(BundleError, match="format"):
        load_bundle(path)


def test_serving_a_bundle_never_imports_torch(fitted: EngineBundle, tmp_path: Path) -> None:
    """Web workers load bundles and score in NumPy: torch (hundreds of MB) stays out."""
    import json
    import subprocess
    import sys

    path = tmp_path / "v.bundle"
    fitted.save(path)
    code = (
        "import sys, json, numpy as np\n"
        "from apps.recommend.engine.bundle import load_bundle\n"
        "from apps.recommend.engine.dataset import Context\n"
        f"b = load_bundle(__import__('pathlib').Path({str(path)!r}))\n"
        "recs = b.recommend(Context(history=np.array([1, 2, 3])), 5)\n"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'n': len(recs)}))\n"
    )
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == {"torch": False, "n": 5}


def test_recommend_many_matches_recommend(fitted: EngineBundle, synthetic: SyntheticData) -> None:
    contexts = [_context_of(synthetic.dataset, user) for user in range(3)]
    many = fitted.recommend_many(contexts, 5)
    assert [[r.track for r in recs] for recs in many] == [
        [r.track for r in fitted.recommend(context, 5)] for context in contexts
    ]


def test_similar_tracks_share_the_genre(fitted: EngineBundle, synthetic: SyntheticData) -> None:
    same = total = 0
    for track in range(0, 600, 60):
        similar = fitted.similar(track, 10)
        genre = synthetic.track_genre[track]
        same += sum(int(synthetic.track_genre[r.track] == genre) for r in similar)
        total += len(similar)
    assert total > 50
    assert same / total > 0.3  # 24 genres: chance is about 0.04
