"""Admin: history entries, the outbox (filter by state, send again) and read-only events."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.history.models import HistoryEntry, ListeningEvent, OutboxEvent, PredictionLog
from apps.history.services import outbox_requeue


@admin.register(HistoryEntry)
class HistoryEntryAdmin(admin.ModelAdmin):
    list_display = ("listener", "position", "track", "added_at", "was_recommended")
    list_select_related = ("listener", "track")
    raw_id_fields = ("listener", "track")
    list_filter = ("was_recommended",)
    date_hierarchy = "added_at"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that only the system writes."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ListeningEvent)
class ListeningEventAdmin(ReadOnlyAdmin):
    list_display = ("timestamp", "type", "listener_id", "track_id", "was_recommended")
    list_filter = ("type", "was_recommended")
    search_fields = ("event_id", "listener_id", "track_id")
    date_hierarchy = "timestamp"


@admin.register(PredictionLog)
class PredictionLogAdmin(ReadOnlyAdmin):
    list_display = ("timestamp", "listener_id", "log_id")
    search_fields = ("log_id", "listener_id")
    date_hierarchy = "timestamp"


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "state", "listener_id", "attempts", "created_at", "sent_at")
    list_filter = ("state",)
    search_fields = ("event_id",)
    actions = ["send_again"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Needed for the action; the change form itself stays read-only (readonly_fields).
        return obj is None and bool(request.user.is_superuser)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in OutboxEvent._meta.fields]

    @admin.action(description="Send again (the event store ignores events it has)")
    def send_again(self, request: HttpRequest, queryset: QuerySet[OutboxEvent]) -> None:
        count = outbox_requeue(ids=list(queryset.values_list("id", flat=True)))
        from apps.history.services import outbox_drain_enqueue

        outbox_drain_enqueue()
        self.message_user(request, f"{count} events queued.", messages.SUCCESS)
