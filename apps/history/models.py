"""Listening history, the outbox of events, and the SQL event store's tables."""

from __future__ import annotations

import uuid

from django.db import models

from apps.accounts.models import Listener
from apps.catalog.models import Track

HISTORY_LIMIT = 50
# From this many songs on, the panel warns how many slots are left.
HISTORY_WARNING_FROM = 45


class EventType(models.TextChoices):
    ADD = "add", "Added to history"
    REMOVE = "remove", "Removed from history"
    PLAY = "play", "Played"
    LIKE = "like", "Liked"
    SKIP = "skip", "Skipped"
    DEMOGRAPHICS = "demographics", "Changed demographics"


# Events a client may record directly; the others come from history and profile changes.
CLIENT_EVENT_TYPES = (EventType.PLAY, EventType.LIKE, EventType.SKIP)


class HistoryEntry(models.Model):
    listener = models.ForeignKey(Listener, on_delete=models.CASCADE, related_name="history")
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="history_entries")
    added_at = models.DateTimeField(auto_now_add=True)
    # Order added; never reused, so the oldest entry is always the lowest position.
    position = models.PositiveIntegerField()
    was_recommended = models.BooleanField(default=False)

    class Meta:
        ordering = ["listener", "position"]
        verbose_name_plural = "history entries"
        constraints = [
            models.UniqueConstraint(fields=["listener", "track"], name="history_unique_track"),
            models.UniqueConstraint(
                fields=["listener", "position"], name="history_unique_position"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.listener_id} #{self.position}: {self.track_id}"


class OutboxState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"


class OutboxEvent(models.Model):
    """An event committed with the change that caused it, waiting to reach the event store."""

    event_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The payload carries the listener id too; the foreign key drops pending events with the
    # listener, so a deleted profile is not resurrected in the store by a late drain.
    listener = models.ForeignKey(Listener, on_delete=models.CASCADE, related_name="+")
    payload = models.JSONField()
    state = models.CharField(
        max_length=10, choices=OutboxState.choices, default=OutboxState.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    available_at = models.DateTimeField(help_text="not retried before this time")
    attempts = models.PositiveIntegerField(default=0)
    claim_token = models.UUIDField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["state", "available_at"], name="outbox_state_available_idx"),
            models.Index(fields=["claim_token"], name="outbox_claim_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} ({self.state})"


class ListeningEvent(models.Model):
    """The SQL event store's events (the default store; MongoDB's ``listening_history``)."""

    event_id = models.UUIDField(unique=True)
    # Plain ids, no foreign keys: the store outlives catalog changes and is erased explicitly.
    listener_id = models.BigIntegerField()
    track_id = models.PositiveIntegerField(null=True, blank=True)
    type = models.CharField(max_length=16, choices=EventType.choices)
    timestamp = models.DateTimeField()
    was_recommended = models.BooleanField(default=False)
    recommendation_confidence = models.FloatField(null=True, blank=True)
    recommendation_id = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["timestamp", "id"]
        indexes = [
            models.Index(fields=["listener_id", "timestamp"], name="event_listener_time_idx"),
            models.Index(fields=["type", "timestamp"], name="event_type_time_idx"),
            models.Index(fields=["timestamp"], name="event_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.listener_id}/{self.track_id} at {self.timestamp}"


class PredictionLog(models.Model):
    """The SQL event store's prediction logs (MongoDB's ``predictions``)."""

    log_id = models.UUIDField(unique=True)
    listener_id = models.BigIntegerField()
    timestamp = models.DateTimeField()
    context = models.JSONField(default=dict)
    predictions = models.JSONField(default=list)

    class Meta:
        ordering = ["timestamp", "id"]
        indexes = [
            models.Index(fields=["listener_id", "timestamp"], name="prediction_listener_time_idx"),
        ]

    def __str__(self) -> str:
        return f"prediction {self.log_id} for {self.listener_id}"
