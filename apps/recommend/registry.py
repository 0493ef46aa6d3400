"""The trained-model registry (placeholder until the recommender issue)."""

from __future__ import annotations

from django.conf import settings


def model_status() -> tuple[str, str]:
    """``("ok" | "degraded", detail)`` for /healthz: degraded while no model is trained."""
    if not any(settings.MODEL_DIR.glob("*")) if settings.MODEL_DIR.exists() else True:
        return "degraded", "no trained model yet: popularity and demographics serve"
    return "ok", "model present"
