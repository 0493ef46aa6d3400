from __future__ import annotations

from django.urls import path

from apps.history import api

urlpatterns = [
    path("history", api.HistoryApi.as_view(), name="api-history"),
    path("history/<int:track_id>", api.HistoryEntryApi.as_view(), name="api-history-detail"),
    path("events", api.EventsApi.as_view(), name="api-events"),
]
