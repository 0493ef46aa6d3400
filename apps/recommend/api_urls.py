from __future__ import annotations

from django.urls import path

from apps.recommend import api

urlpatterns = [
    path("recommendations", api.RecommendationsApi.as_view(), name="api-recommendations"),
    path(
        "recommendations/batch",
        api.RecommendationsBatchApi.as_view(),
        name="api-recommendations-batch",
    ),
    path("tracks/<int:track_id>/similar", api.SimilarTracksApi.as_view(), name="api-track-similar"),
]
