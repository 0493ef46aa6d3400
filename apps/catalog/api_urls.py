from __future__ import annotations

from django.urls import path

from apps.catalog import api

urlpatterns = [
    path("tracks/", api.TrackListApi.as_view(), name="api-tracks"),
    path("tracks/<int:track_id>/", api.TrackDetailApi.as_view(), name="api-track-detail"),
    path("genres/", api.GenreTreeApi.as_view(), name="api-genres"),
    path("artists/<int:artist_id>/", api.ArtistDetailApi.as_view(), name="api-artist-detail"),
]
