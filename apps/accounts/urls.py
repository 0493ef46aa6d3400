from __future__ import annotations

from django.urls import path

from apps.accounts import views

urlpatterns = [
    path("welcome", views.welcome, name="welcome"),
    path("demographics", views.welcome, name="demographics"),
    path("profile", views.profile, name="profile"),
    path("profile/token", views.profile_token, name="profile-token"),
    path("profile/export", views.profile_export, name="profile-export"),
    path("profile/delete", views.profile_delete, name="profile-delete"),
]
