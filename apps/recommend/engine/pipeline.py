"""Train every predictor on one dataset and put them behind one ensemble.

:func:`build_engine` is what ``manage.py train`` / the Celery task and the benchmark call;
:class:`Engine` is what a web worker holds (it is also what :mod:`artifacts` saves and loads).
Importing this module does not import torch; only training does.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from apps.recommend.engine.dataset import Context, Dataset
from apps.recommend.engine.demographic import DemographicPredictor
from apps.recommend.engine.ensemble import Calibrator, Catalog, Ensemble, Recommendation
from apps.recommend.engine.model import HybridConfig, HybridPredictor
from apps.recommend.engine.popularity import DEFAULT_HALF_LIFE_S, PopularityPredictor
from apps.recommend.engine.similar import SimilarTracks

#: Offline-quality factors until the evaluation refreshes them (from recall@10 on synthetic data:
#: the model is about twice as good as demographic and popularity).
DEFAULT_QUALITY: dict[str, float] = {
    "model": 1.0,
    "similar": 0.6,
    "demographic": 0.5,
    "popularity": 0.4,
}


@dataclass
class Engine:
    """The trained predictors, their ensemble, and metadata about how they were made."""

    model: HybridPredictor
    demographic: DemographicPredictor
    popularity: PopularityPredictor
    similar_tracks: SimilarTracks
    ensemble: Ensemble
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def n_tracks(self) -> int:
        return self.ensemble.n_tracks

    def recommend(self, context: Context, n: int = 10) -> list[Recommendation]:
        return self.ensemble.recommend(context, n)

    def recommend_many(self, contexts: list[Context], n: int = 10) -> list[list[Recommendation]]:
        return self.ensemble.recommend_many(contexts, n)

    def similar(self, track: int, n: int = 10) -> list[tuple[int, float]]:
        return self.similar_tracks.similar(track, n)


def dataset_fingerprint(dataset: Dataset) -> str:
    """A sha256 over the interactions and ids: equal fingerprints mean "no new data"."""
    h = hashlib.sha256()
    for arr in (dataset.track_ids, dataset.listener_ids, dataset.user, dataset.item,
                dataset.weight, dataset.timestamp):  # fmt: skip
        a = np.ascontiguousarray(arr)
        h.update(str(a.dtype).encode())
        h.update(a.tobytes() if a.dtype != object else repr(a.tolist()).encode())
    return h.hexdigest()


def build_ensemble(
    model: HybridPredictor,
    demographic: DemographicPredictor,
    popularity: PopularityPredictor,
    similar: SimilarTracks,
    catalog: Catalog,
    *,
    quality: dict[str, float] | None = None,
    max_per_artist: int | None = 2,
    calibrator: Calibrator | None = None,
) -> Ensemble:
    # order = fallback chain: model, then demographic, then popularity (the prior is built in)
    return Ensemble(
        predictors=[model, similar, demographic, popularity],
        catalog=catalog,
        quality={**DEFAULT_QUALITY, **(quality or {})},
        max_per_artist=max_per_artist,
        calibrator=calibrator or Calibrator(),
    )


def build_engine(
    dataset: Dataset,
    *,
    hybrid: HybridConfig | None = None,
    half_life_s: float = DEFAULT_HALF_LIFE_S,
    popularity_by_group: bool = True,
    quality: dict[str, float] | None = None,
    max_per_artist: int | None = 2,
) -> Engine:
    """Fit every predictor on ``dataset``; ``metadata['timings']`` holds seconds per predictor."""
    timings: dict[str, float] = {}

    def timed(name: str, fn: Any) -> Any:
        t0 = time.perf_counter()
        out = fn()
        timings[name] = round(time.perf_counter() - t0, 3)
        return out

    popularity = timed(
        "popularity",
        lambda: PopularityPredictor(half_life_s=half_life_s, by_group=popularity_by_group).fit(
            dataset
        ),
    )
    demographic = timed("demographic", lambda: DemographicPredictor().fit(dataset))
    model = timed("model", lambda: HybridPredictor(config=hybrid or HybridConfig()).fit(dataset))
    similar = timed("similar", lambda: SimilarTracks(model=model).fit(dataset))
    catalog = Catalog.from_tracks(dataset.tracks, dataset.n_tracks)
    ensemble = build_ensemble(
        model, demographic, popularity, similar, catalog,
        quality=quality, max_per_artist=max_per_artist,
    )  # fmt: skip
    metadata = {
        "timings": timings,
        "fingerprint": dataset_fingerprint(dataset),
        "n_tracks": dataset.n_tracks,
        "n_listeners": dataset.n_listeners,
        "n_interactions": dataset.n_interactions,
        "model_trained": model.trained,
        "model_losses": model.losses,
        "metrics": {},
    }
    return Engine(model, demographic, popularity, similar, ensemble, metadata)
