from __future__ import annotations

from django.apps import AppConfig


class RecommendConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.recommend"
    label = "recommend"
