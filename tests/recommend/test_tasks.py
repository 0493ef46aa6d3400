"""Celery: training through the real broker, the beat schedules, the refresh tasks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from celery.contrib.testing.worker import start_worker
from django_celery_beat.models import PeriodicTask

from apps.accounts.models import Listener
from apps.recommend import tasks
from apps.recommend.models import ModelVersion
from musicrec.celery import app


@pytest.mark.django_db
def test_beat_schedules_exist_and_are_editable() -> None:
    schedules = {task.name: task for task in PeriodicTask.objects.all()}
    assert schedules["Refresh popularity"].interval.every == 5
    assert schedules["Refresh ensemble confidence"].interval.every == 60
    assert schedules["Retrain model nightly"].crontab.hour == "3"
    assert schedules["Refresh popularity"].task == "apps.recommend.tasks.refresh_popularity"


@pytest.mark.django_db
def test_refresh_keeps_the_model_and_makes_a_new_version(genre_fans: list[Listener]) -> None:
    assert tasks.refresh_popularity() == "no trained model to refresh yet"
    trained = tasks.train_model()
    assert ModelVersion.objects.get(version=trained).kind == ModelVersion.Kind.FULL
    assert tasks.refresh_popularity() == "no new data"
    from tests.factories import make_listener
    from tests.recommend.fixtures import give_history

    newcomer = make_listener()
    from apps.catalog.models import Track

    give_history(newcomer, list(Track.objects.all()[:3]))
    refreshed = tasks.refresh_popularity()
    version = ModelVersion.objects.get(version=refreshed)
    assert version.kind == ModelVersion.Kind.REFRESH
    assert version.status == ModelVersion.Status.READY


@pytest.fixture
def redis_worker(transactional_db: None) -> Iterator[None]:
    app.conf.task_always_eager = False
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        yield


@pytest.mark.redis
def test_training_round_trip_through_celery(genre_fans: list[Listener], redis_worker: None) -> None:
    result = tasks.train_model.delay(True)
    version = result.get(timeout=120)
    assert ModelVersion.objects.get(version=version).status == ModelVersion.Status.READY
