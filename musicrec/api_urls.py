"""Every app's API routes, mounted under /api/."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("", include("apps.accounts.api_urls")),
    path("", include("apps.catalog.api_urls")),
    path("", include("apps.history.api_urls")),
    path("", include("apps.recommend.api_urls")),
]
