"""Background catalog import, started from the admin; progress lives in the cache by task id."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from celery import shared_task
from django.core.cache import cache
from django.db import OperationalError, transaction

from apps.catalog import fma
from apps.catalog.services import catalog_import_fma

logger = logging.getLogger(__name__)

PROGRESS_TTL_S = 24 * 60 * 60
IMPORT_TIME_LIMIT_S = 30 * 60
SHOWN_REJECTS = 50
IMPORT_MAX_RETRIES = 3


def import_progress_key(task_id: str) -> str:
    return f"catalog:import:{task_id}"


def import_progress(task_id: str) -> dict[str, Any] | None:
    value: dict[str, Any] | None = cache.get(import_progress_key(task_id))
    return value


def _store(task_id: str, **values: Any) -> None:
    current = import_progress(task_id) or {}
    cache.set(import_progress_key(task_id), {**current, **values}, PROGRESS_TTL_S)


def import_enqueue(*, path: str) -> str:
    """Queue an import of ``path`` after the current transaction commits; returns the task id."""
    task_id = str(uuid.uuid4())
    _store(task_id, state="queued", path=path, done=0, total=0)
    transaction.on_commit(
        lambda: import_fma_task.apply_async(kwargs={"path": path}, task_id=task_id)
    )
    return task_id


@shared_task(
    bind=True,
    name="catalog.import_fma",
    max_retries=IMPORT_MAX_RETRIES,
    time_limit=IMPORT_TIME_LIMIT_S,
    soft_time_limit=IMPORT_TIME_LIMIT_S - 60,
)
def import_fma_task(self: Any, path: str) -> dict[str, Any]:
    """Import an FMA metadata folder. Safe to run twice: the import is an upsert."""
    task_id: str = self.request.id or str(uuid.uuid4())
    _store(task_id, state="running", path=path)

    def progress(done: int, total: int) -> None:
        _store(task_id, done=done, total=total)

    try:
        report = catalog_import_fma(path=path, progress=progress)
    except fma.MetadataNotFound as error:
        _store(task_id, state="failed", error=str(error))
        return {"error": str(error)}
    except OperationalError as error:  # the database went away: worth another try
        _store(task_id, state="retrying", error=str(error))
        raise self.retry(exc=error, countdown=30 * 2**self.request.retries) from error
    summary = report.as_dict()
    summary["rejects"] = summary["rejects"][:SHOWN_REJECTS]
    _store(task_id, state="done", report=summary)
    return summary
