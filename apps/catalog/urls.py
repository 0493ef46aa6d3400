from __future__ import annotations

from django.urls import path

from apps.catalog import views

urlpatterns = [
    path("", views.search_page, name="search"),
    path("search", views.search_page, name="search-results"),
    path("tracks/<int:track_id>", views.track_detail, name="track-detail"),
]
