from __future__ import annotations

from django.urls import path

from apps.accounts import api

urlpatterns = [
    path("demographics", api.DemographicsApi.as_view(), name="api-demographics"),
]
