"""The model registry: which trained engine this process serves, loaded once and swapped safely.

Workers serve the newest ``ready`` :class:`ModelVersion` they can load. The database is asked
at most every ``RECHECK_SECONDS`` whether a newer version exists, so a request costs no query.
A version that fails to load (corrupted, truncated, wrong format) is marked ``rejected`` and the
version already loaded keeps serving. With no trained version at all, an engine fitted on the
catalog alone (FMA popularity) answers, so recommendations never come back empty.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import numpy as np
from django.conf import settings

from apps.recommend.engine.dataset import Context

logger = logging.getLogger(__name__)

RECHECK_SECONDS = 30.0
PRIOR_VERSION_PREFIX = "prior"


class ServingEngine:
    """A loaded engine bundle, speaking FMA track ids instead of engine positions."""

    def __init__(self, *, version: str, bundle: Any) -> None:
        self.version = version
        self.bundle = bundle
        self.track_ids: np.ndarray = bundle.track_ids
        self.track_position = {int(t): i for i, t in enumerate(self.track_ids)}
        self._apply_online_quality()

    def _apply_online_quality(self) -> None:
        """Scale the offline blending quality by how listeners took each predictor's picks."""
        from apps.recommend.quality import online_multipliers

        for name, multiplier in online_multipliers().items():
            for weights in (self.bundle.quality, *self.bundle.slice_quality.values()):
                if name in weights:
                    weights[name] *= multiplier

    def context(
        self,
        *,
        history: list[int] | None = None,
        age: int | float | None = None,
        gender: str | None = "",
        country: str | None = "",
        occupation: str | None = "",
    ) -> Context:
        positions = [self.track_position[t] for t in history or [] if t in self.track_position]
        return Context(
            history=np.array(positions, dtype=np.int64),
            age=float("nan") if age is None else float(age),
            gender=gender or "",
            country=country or "",
            occupation=occupation or "",
        )

    def _served(self, items: list[Any]) -> list[Any]:
        from apps.recommend.services import RecommendedTrack

        return [
            RecommendedTrack(
                track_id=int(self.track_ids[item.track]),
                score=float(item.score),
                confidence=float(item.confidence),
                reason=item.reason,
                shares=dict(item.shares),
            )
            for item in items
        ]

    def recommend(self, context: Context, n: int) -> list[Any]:
        return self._served(self.bundle.recommend(context, n))

    def recommend_many(self, contexts: list[Context], n: int) -> list[list[Any]]:
        return [self._served(items) for items in self.bundle.recommend_many(contexts, n)]

    def similar(self, track_id: int, n: int) -> list[Any]:
        position = self.track_position.get(track_id)
        if position is None:
            return []
        return self._served(self.bundle.similar(position, n))


_lock = threading.Lock()
_state: dict[str, Any] = {"engine": None, "checked_at": 0.0, "model_dir": None}


def get_engine() -> ServingEngine:
    """The engine this process serves now (cheap: a dict lookup between re-checks)."""
    engine: ServingEngine | None = _state["engine"]
    fresh = time.monotonic() - _state["checked_at"] < RECHECK_SECONDS
    if engine is not None and fresh and _state["model_dir"] == settings.MODEL_DIR:
        return engine
    with _lock:
        _state["engine"] = _refresh(_state["engine"])
        _state["checked_at"] = time.monotonic()
        _state["model_dir"] = settings.MODEL_DIR
        return _state["engine"]


def reset() -> None:
    """Forget the loaded engine (tests; after training in the same process)."""
    with _lock:
        _state.update(engine=None, checked_at=0.0, model_dir=None)


MAX_VERSIONS_TRIED = 3


def _refresh(current: ServingEngine | None) -> ServingEngine:
    """The newest loadable ready version; the current engine if nothing newer loads."""
    from apps.recommend.models import ModelVersion

    candidates = ModelVersion.objects.filter(status=ModelVersion.Status.READY).order_by(
        "-created_at", "-id"
    )[:MAX_VERSIONS_TRIED]
    for version in candidates:
        if current is not None and current.version == version.version:
            return current
        try:
            return load_version(version)
        except Exception as exc:  # noqa: BLE001 - any load failure: fall back to an older one
            logger.error(
                "model version refused, an older one keeps serving",
                extra={"version": version.version, "error": repr(exc)},
            )
            ModelVersion.objects.filter(pk=version.pk).update(
                status=ModelVersion.Status.REJECTED, error=f"load failed: {exc!r}"[:2000]
            )
    if current is not None and not current.version.startswith(PRIOR_VERSION_PREFIX):
        return current
    return prior_engine(current)


def load_version(version: Any) -> ServingEngine:
    from apps.recommend.engine.bundle import load_bundle

    bundle = load_bundle(settings.MODEL_DIR / version.filename)
    return ServingEngine(version=version.version, bundle=bundle)


def prior_engine(current: ServingEngine | None) -> ServingEngine:
    """An engine from the catalog alone, refitted only when the catalog size changed."""
    from apps.catalog.models import Track
    from apps.recommend.training import untrained_bundle

    n_tracks = Track.objects.count()
    version = f"{PRIOR_VERSION_PREFIX}-{n_tracks}"
    if current is not None and current.version == version:
        return current
    return ServingEngine(version=version, bundle=untrained_bundle())


def model_status() -> tuple[str, str]:
    """``("ok" | "degraded", detail)`` for /healthz: degraded while no trained model serves."""
    from apps.recommend.models import ModelVersion

    newest = ModelVersion.objects.filter(status=ModelVersion.Status.READY).first()
    if newest is None:
        return "degraded", "no trained model yet: FMA popularity and demographics serve"
    path = settings.MODEL_DIR / newest.filename
    if not path.exists():
        return "degraded", f"model file {newest.filename} missing from MODEL_DIR"
    return "ok", f"version {newest.version}"


def serve_bundle(bundle: Any, version: str) -> ServingEngine:
    """Serve ``bundle`` in this process until the next re-check (benchmarks, tests)."""
    engine = ServingEngine(version=version, bundle=bundle)
    with _lock:
        _state.update(
            engine=engine, checked_at=time.monotonic() + 10**9, model_dir=settings.MODEL_DIR
        )
    return engine
