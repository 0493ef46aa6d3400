from __future__ import annotations

from django.urls import path

from apps.recommend import views

urlpatterns = [
    path("recommendations", views.recommendations_page, name="recommendations"),
]
