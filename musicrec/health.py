"""/healthz: the state of every service the site depends on.

Each check returns ``ok``, ``degraded`` or ``down`` with its latency. The endpoint answers 200
while the database answers (the site can serve pages), 503 otherwise, so a load balancer takes a
web process out only when it really cannot work.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

OK, DEGRADED, DOWN = "ok", "degraded", "down"
BROKER_TIMEOUT_SECONDS = 2


@dataclass
class CheckResult:
    status: str
    detail: str = ""


def check_database() -> CheckResult:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return CheckResult(OK, connection.vendor)


def check_cache() -> CheckResult:
    backend = settings.CACHES["default"]["BACKEND"]
    if "django_redis" in backend:
        # The cache ignores Redis errors so pages degrade; here we want to see them.
        from django_redis import get_redis_connection

        get_redis_connection("default").ping()
        return CheckResult(OK, "redis")
    token = uuid.uuid4().hex
    cache.set("healthz:probe", token, timeout=10)
    if cache.get("healthz:probe") != token:
        return CheckResult(DOWN, "cache did not return what was written")
    return CheckResult(OK, backend.rsplit(".", 1)[-1])


def check_broker() -> CheckResult:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return CheckResult(OK, "eager (tasks run in the web process)")
    from musicrec.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
    return CheckResult(OK, app.conf.broker_url.split("://", 1)[0])


def check_event_store() -> CheckResult:
    from apps.history.eventstore import get_event_store

    store = get_event_store()
    store.ping()
    return CheckResult(OK, store.name)


def check_model() -> CheckResult:
    from apps.recommend.registry import model_status

    status, detail = model_status()
    return CheckResult(status, detail)


CHECKS: dict[str, Callable[[], CheckResult]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "event_store": check_event_store,
    "model": check_model,
}


def run_checks() -> dict[str, dict[str, object]]:
    results: dict[str, dict[str, object]] = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            result = check()
        except Exception as exc:  # noqa: BLE001 - a failing service is a result, not an error
            logger.warning("health check failed", extra={"check": name, "error": repr(exc)})
            result = CheckResult(DOWN, f"{type(exc).__name__}: {exc}"[:200])
        results[name] = {
            "status": result.status,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
            "detail": result.detail,
        }
    return results


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = run_checks()
    statuses = {check["status"] for check in checks.values()}
    overall = (
        OK if statuses == {OK} else (DOWN if checks["database"]["status"] == DOWN else DEGRADED)
    )
    http_status = 503 if checks["database"]["status"] == DOWN else 200
    return JsonResponse({"status": overall, "checks": checks}, status=http_status)
