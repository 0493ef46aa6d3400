"""Celery tasks of the recommender (scheduled by django-celery-beat, editable in the admin).

Each task calls one service and is safe to run twice: training skips unchanged data and holds
a lock, the refreshes recompute from scratch.
"""

from __future__ import annotations

import logging

from celery import shared_task

from apps.recommend import quality, training

logger = logging.getLogger(__name__)


@shared_task(name="apps.recommend.tasks.train_model", acks_late=True, time_limit=60 * 60)
def train_model(force: bool = False) -> str:
    result = training.model_train(force=force)
    if result.version is None or result.skipped:
        return f"skipped: {result.skipped}"
    return result.version.version


@shared_task(name="apps.recommend.tasks.refresh_popularity", acks_late=True, time_limit=15 * 60)
def refresh_popularity() -> str:
    """Every few minutes: refit popularity/demographics; retrain fully after N new events."""
    if training.new_events_since_last_model() >= training.RETRAIN_AFTER_EVENTS:
        return train_model(force=False)
    result = training.model_refresh()
    return result.skipped or (result.version.version if result.version else "")


@shared_task(
    name="apps.recommend.tasks.refresh_ensemble_confidence", acks_late=True, time_limit=10 * 60
)
def refresh_ensemble_confidence() -> dict[str, float]:
    return quality.predictor_quality_refresh()
