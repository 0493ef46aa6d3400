"""Trained model versions and the online quality of each predictor."""

from __future__ import annotations

from django.db import models


class ModelVersion(models.Model):
    """One trained engine bundle on disk (under settings.MODEL_DIR), with what it was trained on.

    Workers serve the newest ``ready`` version they can load; a version that fails to load is
    marked ``rejected`` and the previous one keeps serving.
    """

    class Status(models.TextChoices):
        TRAINING = "training", "Training"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        REJECTED = "rejected", "Rejected (could not be loaded)"

    class Kind(models.TextChoices):
        FULL = "full", "Full training"
        REFRESH = "refresh", "Popularity/demographic refresh"

    version = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.FULL)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.TRAINING)
    filename = models.CharField(max_length=255, blank=True, help_text="relative to MODEL_DIR")
    created_at = models.DateTimeField(auto_now_add=True)
    data_fingerprint = models.CharField(max_length=64, blank=True)
    n_listeners = models.PositiveIntegerField(default=0)
    n_tracks = models.PositiveIntegerField(default=0)
    n_interactions = models.PositiveIntegerField(default=0)
    training_seconds = models.FloatField(default=0)
    metrics = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-created_at"], name="modelversion_ready_idx")]

    def __str__(self) -> str:
        return f"{self.version} ({self.status})"


class PredictorQuality(models.Model):
    """How well each predictor's shown recommendations were taken up recently (hourly refresh).

    The ensemble multiplies each predictor's confidence by ``quality``, so a predictor that
    keeps missing for real listeners is weighted down without a retrain.
    """

    predictor = models.CharField(max_length=64, unique=True)
    quality = models.FloatField(default=1.0)
    shown = models.PositiveIntegerField(default=0)
    selected = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["predictor"]
        verbose_name_plural = "predictor qualities"

    def __str__(self) -> str:
        return f"{self.predictor}: {self.quality:.2f}"
