"""Recommendations API: ``GET /api/recommendations``, ``POST /api/recommendations/batch``,
``GET /api/tracks/{id}/similar``."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.authentication import LISTENER_AUTHENTICATION, HasDemographics, request_listener
from apps.accounts.rules import AGE_MAX, AGE_MIN, Gender, Occupation, validate_country
from apps.catalog.models import Track
from apps.recommend.services import (
    DEFAULT_COUNT,
    MAX_COUNT,
    RecommendedTrack,
    prediction_log_shown,
    recommendations_for,
    recommendations_for_contexts,
    similar_tracks,
    tracks_by_id,
)

MAX_BATCH_CONTEXTS = 50
MAX_CONTEXT_HISTORY = 50


class RecommendationOutputSerializer(serializers.Serializer):
    track_id = serializers.IntegerField()
    title = serializers.CharField()
    artist = serializers.CharField()
    score = serializers.FloatField()
    confidence = serializers.FloatField(help_text="0-1: how likely we think you will add it")
    reason = serializers.CharField()
    shares = serializers.DictField(
        child=serializers.FloatField(), help_text="each predictor's share of the score"
    )


def _serialize(items: list[RecommendedTrack]) -> list[dict[str, Any]]:
    tracks = tracks_by_id([item.track_id for item in items])
    return [
        {
            "track_id": item.track_id,
            "title": tracks[item.track_id].title,
            "artist": tracks[item.track_id].artist.name,
            "score": item.score,
            "confidence": item.confidence,
            "reason": item.reason,
            "shares": item.shares,
        }
        for item in items
        if item.track_id in tracks
    ]


class CountInputSerializer(serializers.Serializer):
    n = serializers.IntegerField(min_value=1, max_value=MAX_COUNT, default=DEFAULT_COUNT)


class RecommendationsApi(APIView):
    authentication_classes = LISTENER_AUTHENTICATION
    permission_classes = [HasDemographics]

    class RecommendationsOutputSerializer(serializers.Serializer):
        recommendation_id = serializers.CharField(
            help_text="send it back as recommendation_id when adding one of these"
        )
        model_version = serializers.CharField()
        results = RecommendationOutputSerializer(many=True)

    @extend_schema(
        parameters=[CountInputSerializer],
        responses=RecommendationsOutputSerializer,
        summary="Your top recommendations",
    )
    def get(self, request: Request) -> Response:
        params = CountInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        n = params.validated_data["n"]
        listener = request_listener(request)
        history = list(listener.history.order_by("position").values_list("track_id", flat=True))
        recommendations = recommendations_for(listener=listener, n=n, history=history)
        log_id = prediction_log_shown(
            listener=listener, recommendations=recommendations, shown=n, history=history
        )
        body = {
            "recommendation_id": log_id,
            "model_version": recommendations.model_version,
            "results": _serialize(recommendations.items),
        }
        return Response(self.RecommendationsOutputSerializer(body).data)


class ContextInputSerializer(serializers.Serializer):
    history = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        max_length=MAX_CONTEXT_HISTORY,
        default=list,
        help_text="track ids, oldest first",
    )
    age = serializers.IntegerField(min_value=AGE_MIN, max_value=AGE_MAX, required=False)
    gender = serializers.ChoiceField(choices=Gender.choices, required=False)
    country = serializers.CharField(max_length=2, required=False, validators=[validate_country])
    occupation = serializers.ChoiceField(choices=Occupation.choices, required=False)


class RecommendationsBatchApi(APIView):
    """Score several listener contexts in one call (what-if exploration, offline jobs)."""

    authentication_classes = LISTENER_AUTHENTICATION
    permission_classes = [HasDemographics]

    class RecommendationsBatchInputSerializer(serializers.Serializer):
        contexts = serializers.ListField(
            child=ContextInputSerializer(), min_length=1, max_length=MAX_BATCH_CONTEXTS
        )
        n = serializers.IntegerField(min_value=1, max_value=MAX_COUNT, default=DEFAULT_COUNT)

    class RecommendationsBatchOutputSerializer(serializers.Serializer):
        results = serializers.ListField(child=RecommendationOutputSerializer(many=True))

    @extend_schema(
        request=RecommendationsBatchInputSerializer,
        responses=RecommendationsBatchOutputSerializer,
        summary="Batch scoring",
    )
    def post(self, request: Request) -> Response:
        data = self.RecommendationsBatchInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contexts = data.validated_data["contexts"]
        results = recommendations_for_contexts(contexts=contexts, n=data.validated_data["n"])
        return Response({"results": [_serialize(items) for items in results]})


class SimilarTracksApi(APIView):
    """Tracks like this one (public, like the rest of the catalog)."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            CountInputSerializer,
            OpenApiParameter("track_id", int, OpenApiParameter.PATH, description="FMA track id"),
        ],
        responses=RecommendationOutputSerializer(many=True),
        summary="Similar tracks",
    )
    def get(self, request: Request, track_id: int) -> Response:
        params = CountInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        if not Track.objects.filter(id=track_id).exists():
            raise exceptions.NotFound(f"No track with id {track_id}.")
        items = similar_tracks(track_id=track_id, n=params.validated_data["n"])
        return Response(_serialize(items))
