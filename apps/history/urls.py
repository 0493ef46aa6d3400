from __future__ import annotations

from django.urls import path

from apps.history import views

urlpatterns = [
    path("history/add", views.add, name="history-add"),
    path("history/remove", views.remove, name="history-remove"),
]
