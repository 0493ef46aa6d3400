"""The Celery application. Settings come from Django settings under the ``CELERY_`` prefix."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicrec.settings")

app = Celery("musicrec")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Our tasks are idempotent (see STYLE.md): acknowledge after the work so a crash re-runs it.
app.conf.task_acks_late = True
app.conf.task_reject_on_worker_lost = True
app.conf.worker_prefetch_multiplier = 1
app.autodiscover_tasks()


@app.task(name="musicrec.ping")
def ping(value: str = "pong") -> str:
    """A no-op task: the health check and the broker round-trip test use it."""
    return value
