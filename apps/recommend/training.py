"""Training: from database rows to a versioned engine bundle on disk (``manage.py train`` and
the Celery tasks both call :func:`model_train`).

A bundle is written to a temp file and renamed, then registered as a ``ready``
:class:`ModelVersion`; workers pick it up within ``registry.RECHECK_SECONDS``. Training is
skipped when the data has not changed since the last ready version (same fingerprint).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from apps.recommend.adapters import Catalog, build_dataset, dataset_fingerprint, load_catalog
from apps.recommend.engine.bundle import EngineBundle
from apps.recommend.engine.dataset import Dataset
from apps.recommend.models import ModelVersion

logger = logging.getLogger(__name__)

TRAINING_LOCK_KEY = "recommend:training-lock"
TRAINING_LOCK_SECONDS = 60 * 60
# Retrain once this many new taste events (adds, plays, likes) arrived since the last model.
RETRAIN_AFTER_EVENTS = 200


@dataclass(frozen=True)
class TrainingResult:
    version: ModelVersion | None
    skipped: str = ""  # why nothing was trained


def untrained_bundle() -> EngineBundle:
    """What a web process serves before any model is trained: popularity and demographics.

    Built in the request path (see ``registry.prior_engine``), so it fits only the two cheap
    predictors: the item-item and neural models are left to ``model_train`` in a worker.
    """
    from apps.recommend.engine.demographic import DemographicPredictor
    from apps.recommend.engine.popularity import PopularityPredictor

    catalog = load_catalog()
    dataset = build_dataset(catalog)
    predictors: dict[str, Any] = {
        "popularity": PopularityPredictor(),
        "demographic": DemographicPredictor(),
    }
    bundle = EngineBundle(predictors=predictors, measure_quality=False)
    bundle.fit(dataset)
    bundle.titles = _display_titles(catalog)
    return bundle


def _fit(catalog: Catalog, dataset: Dataset, *, seed: int = 0) -> EngineBundle:
    bundle = EngineBundle(seed=seed)
    bundle.fit(dataset)
    bundle.titles = _display_titles(catalog)
    return bundle


def _display_titles(catalog: Catalog) -> list[str]:
    """ "Title by Artist" per track position, for "Because you added …"."""
    return [
        f"{title} by {artist}" if artist else title
        for title, artist in zip(catalog.titles, catalog.artist_names, strict=True)
    ]


def model_train(*, force: bool = False, seed: int = 0) -> TrainingResult:
    """Train on everything listeners did; register and return the new version."""
    if not cache.add(TRAINING_LOCK_KEY, "1", timeout=TRAINING_LOCK_SECONDS):
        return TrainingResult(None, skipped="another training is running")
    try:
        return _train(force=force, seed=seed)
    finally:
        cache.delete(TRAINING_LOCK_KEY)


def _train(*, force: bool, seed: int) -> TrainingResult:
    catalog = load_catalog()
    if len(catalog.track_ids) == 0:
        return TrainingResult(None, skipped="the catalog is empty: import it first")
    dataset = build_dataset(catalog)
    fingerprint = dataset_fingerprint(dataset)
    latest = ModelVersion.objects.filter(status=ModelVersion.Status.READY).first()
    if not force and latest is not None and latest.data_fingerprint == fingerprint:
        return TrainingResult(latest, skipped="no new data since the last model")
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S%f")
    version = ModelVersion.objects.create(
        version=f"{stamp}-{fingerprint[:8]}",
        data_fingerprint=fingerprint,
        n_listeners=dataset.n_listeners,
        n_tracks=dataset.n_tracks,
        n_interactions=dataset.n_interactions,
    )
    started = time.perf_counter()
    try:
        bundle = _fit(catalog, dataset, seed=seed)
        filename = f"{version.version}.bundle"
        bundle.save(settings.MODEL_DIR / filename)
    except Exception as exc:
        ModelVersion.objects.filter(pk=version.pk).update(
            status=ModelVersion.Status.FAILED, error=repr(exc)[:2000]
        )
        logger.exception("training failed", extra={"version": version.version})
        raise
    version.filename = filename
    version.training_seconds = round(time.perf_counter() - started, 2)
    version.metrics = {
        "quality": bundle.quality,
        "validation_ndcg10": bundle.metadata.get("validation_ndcg10", {}),
        "predictor_fit_seconds": bundle.metadata.get("predictor_fit_seconds", {}),
    }
    version.status = ModelVersion.Status.READY
    version.save(update_fields=["filename", "training_seconds", "metrics", "status"])
    logger.info(
        "model trained",
        extra={"version": version.version, "seconds": version.training_seconds},
    )
    return TrainingResult(version)


def new_events_since_last_model() -> int:
    """Taste events recorded after the newest ready model was trained."""
    from apps.history.eventstore import get_event_store
    from apps.history.models import EventType

    latest = ModelVersion.objects.filter(status=ModelVersion.Status.READY).first()
    since = latest.created_at if latest is not None else None
    types = [EventType.ADD, EventType.LIKE, EventType.PLAY]
    count = 0
    for _ in get_event_store().iter_events(since=since, types=types):
        count += 1
        if count >= RETRAIN_AFTER_EVENTS:
            break
    return count


# Predictors cheap enough to refit every few minutes (the model and item-item wait for training).
REFRESHED_PREDICTORS = ("popularity", "demographic")


def model_refresh() -> TrainingResult:
    """Refit popularity and demographics on the latest data, keeping the trained model.

    Saved as a new version (kind ``refresh``) so every worker swaps to it and cached answers
    keyed by the old version expire.
    """
    from apps.recommend.engine.bundle import load_bundle

    if not cache.add(TRAINING_LOCK_KEY, "1", timeout=TRAINING_LOCK_SECONDS):
        return TrainingResult(None, skipped="a training is running")
    try:
        latest = ModelVersion.objects.filter(status=ModelVersion.Status.READY).first()
        if latest is None:
            return TrainingResult(None, skipped="no trained model to refresh yet")
        catalog = load_catalog()
        dataset = build_dataset(catalog)
        fingerprint = dataset_fingerprint(dataset)
        if latest.data_fingerprint == fingerprint:
            return TrainingResult(latest, skipped="no new data")
        bundle = load_bundle(settings.MODEL_DIR / latest.filename)
        if (
            len(bundle.track_ids) != dataset.n_tracks
            or (bundle.track_ids != dataset.track_ids).any()
        ):
            return TrainingResult(None, skipped="the catalog changed: a full training is needed")
        started = time.perf_counter()
        for name in REFRESHED_PREDICTORS:
            if name in bundle.predictors:
                bundle.predictors[name].fit(dataset)
        stamp = timezone.now().strftime("%Y%m%dT%H%M%S%f")
        version = ModelVersion(
            version=f"{stamp}-{fingerprint[:8]}-r",
            kind=ModelVersion.Kind.REFRESH,
            data_fingerprint=fingerprint,
            n_listeners=dataset.n_listeners,
            n_tracks=dataset.n_tracks,
            n_interactions=dataset.n_interactions,
            metrics=latest.metrics,
        )
        version.filename = f"{version.version}.bundle"
        bundle.save(settings.MODEL_DIR / version.filename)
        version.training_seconds = round(time.perf_counter() - started, 2)
        version.status = ModelVersion.Status.READY
        version.save()
        return TrainingResult(version)
    finally:
        cache.delete(TRAINING_LOCK_KEY)
