from __future__ import annotations

import numpy as np

from apps.recommend.engine.dataset import Context, Dataset, Scores
from apps.recommend.engine.ensemble import Calibrator, Catalog, Ensemble
from apps.recommend.engine.pipeline import Engine, build_engine
from apps.recommend.engine.synthetic import SyntheticData
from tests.recommend.engine.conftest import small_config
from tests.recommend.engine.planted import make_dataset


def _context(data: SyntheticData, listener: int, n: int = 20) -> Context:
    d = data.dataset
    lf = d.listeners
    assert lf is not None
    return Context(
        history=d.item[d.user == listener][:n],
        age=float(lf.age[listener]),
        gender=str(lf.gender[listener]),
        country=str(lf.country[listener]),
        occupation=str(lf.occupation[listener]),
    )


def test_recommendations_exclude_history_and_cap_artists(
    engine: Engine, synthetic: SyntheticData
) -> None:
    artist = synthetic.dataset.tracks.artist  # type: ignore[union-attr]
    for listener in range(10):
        ctx = _context(synthetic, listener)
        recs = engine.recommend(ctx, 10)

        assert len(recs) == 10
        assert not set(ctx.history.tolist()) & {r.track for r in recs}
        counts = np.bincount(artist[[r.track for r in recs]])
        assert counts.max() <= 2


def test_each_result_is_explained_with_shares_and_a_bounded_confidence(
    engine: Engine, synthetic: SyntheticData
) -> None:
    recs = engine.recommend(_context(synthetic, 3), 10)

    scores = [r.score for r in recs]
    assert scores == sorted(scores, reverse=True)
    confidences = [r.confidence for r in recs]
    assert confidences == sorted(confidences, reverse=True)
    for r in recs:
        assert 0.0 <= r.confidence <= 1.0
        assert r.reason
        assert abs(sum(r.shares.values()) - 1.0) < 1e-3
    assert any(r.reason.startswith("Because you added ") for r in recs)


class _Silent:
    name = "model"

    def fit(self, dataset: Dataset) -> _Silent:
        return self

    def score(self, context: Context, candidates: np.ndarray | None = None) -> Scores:
        return Scores(scores=np.arange(4, dtype=np.float32), confidence=0.0)


class _Fixed:
    def __init__(self, name: str, scores: list[float], confidence: float) -> None:
        self.name = name
        self._scores = np.asarray(scores, dtype=np.float32)
        self._confidence = confidence

    def fit(self, dataset: Dataset) -> _Fixed:
        return self

    def score(self, context: Context, candidates: np.ndarray | None = None) -> Scores:
        return Scores(scores=self._scores, confidence=self._confidence)


def _catalog(n: int = 4) -> Catalog:
    return Catalog(artist=np.arange(n), prior=np.array([0.1, 0.2, 0.3, 0.4], dtype=np.float32)[:n])


def test_model_with_zero_confidence_falls_back_to_the_next_predictor() -> None:
    ens = Ensemble(
        predictors=[_Silent(), _Fixed("demographic", [0, 9, 1, 2], 0.5)], catalog=_catalog()
    )

    recs = ens.recommend(Context(), 2)

    assert [r.track for r in recs] == [1, 3]
    assert recs[0].shares == {"demographic": 1.0}


def test_all_silent_falls_back_to_the_catalogue_prior_and_never_returns_nothing() -> None:
    ens = Ensemble(predictors=[_Silent()], catalog=_catalog())

    recs = ens.recommend(Context(history=np.array([3])), 10)

    assert [r.track for r in recs] == [2, 1, 0]
    assert recs[0].reason == "Popular on FMA"


def test_engine_without_any_interactions_still_recommends() -> None:
    from apps.recommend.engine.dataset import TrackFeatures

    tracks = TrackFeatures.empty(30)
    tracks.popularity = np.arange(30, dtype=np.float32)
    tracks.artist = np.arange(30) % 5
    empty = build_engine(make_dataset([], [], 0, 30, tracks=tracks), hybrid=small_config())

    recs = empty.recommend(Context(history=np.array([29])), 10)

    assert len(recs) == 10
    assert 29 not in {r.track for r in recs}
    assert np.bincount(tracks.artist[[r.track for r in recs]]).max() <= 2


def test_artist_cap_is_a_cap_on_the_returned_list() -> None:
    scores = list(np.linspace(1, 0, 12))
    catalog = Catalog(artist=np.array([0] * 6 + list(range(1, 7))), prior=np.ones(12, np.float32))
    ens = Ensemble(predictors=[_Fixed("model", scores, 1.0)], catalog=catalog, max_per_artist=2)

    recs = ens.recommend(Context(), 6)

    assert [r.track for r in recs] == [0, 1, 6, 7, 8, 9]


def test_recommend_many_matches_recommend(engine: Engine, synthetic: SyntheticData) -> None:
    contexts = [_context(synthetic, u) for u in (1, 2, 3)]

    many = engine.recommend_many(contexts, 5)

    for ctx, got in zip(contexts, many, strict=True):
        want = engine.recommend(ctx, 5)
        assert [r.track for r in got] == [r.track for r in want]
        np.testing.assert_allclose([r.score for r in got], [r.score for r in want], rtol=1e-5)


def test_calibrator_is_monotone_and_fits_hit_rates() -> None:
    raw = np.linspace(0, 1, 1000)
    hit = (np.random.default_rng(0).random(1000) < raw).astype(float)

    cal = Calibrator.fit(raw, hit, n_bins=10)

    mapped = cal(np.linspace(0, 1, 50))
    assert np.all(np.diff(mapped) >= 0)
    assert abs(float(cal(0.9)) - 0.9) < 0.15
    assert float(Calibrator()(0.3)) == 0.3
