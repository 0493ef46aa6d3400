"""The public catalog API: tracks (search, detail), the genre tree, artists.

One APIView per operation, each with its Input/Output serializers; errors take the project's one
shape (musicrec.api_errors). Reads go through apps.catalog.selectors like the HTML views.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.catalog import selectors
from apps.catalog.models import Track

API_PAGE_SIZE = 20
ARTIST_TOP_TRACKS = 50
MAX_API_PAGE = selectors.MAX_OFFSET // API_PAGE_SIZE


class _ArtistRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class _AlbumRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class _GenreRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class TrackSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="FMA track id")
    title = serializers.CharField()
    artist = _ArtistRefSerializer()
    album = _AlbumRefSerializer(allow_null=True)
    duration = serializers.IntegerField(allow_null=True, help_text="seconds")
    genre_top = _GenreRefSerializer(allow_null=True)
    year = serializers.IntegerField(allow_null=True)
    listens = serializers.IntegerField()
    favorites = serializers.IntegerField()
    url = serializers.SerializerMethodField()

    def get_url(self, track: Track) -> str:
        return reverse("api-track-detail", args=[track.id])


class TrackListApi(APIView):
    """Search the catalog (``q``), optionally within a genre; popular tracks without ``q``."""

    class TrackListInputSerializer(serializers.Serializer):
        q = serializers.CharField(
            required=False, allow_blank=True, trim_whitespace=True, default=""
        )
        genre = serializers.IntegerField(required=False, min_value=1)
        page = serializers.IntegerField(
            required=False, min_value=1, max_value=MAX_API_PAGE, default=1
        )

    class TrackListOutputSerializer(serializers.Serializer):
        page = serializers.IntegerField()
        next = serializers.CharField(allow_null=True)
        previous = serializers.CharField(allow_null=True)
        results = TrackSummarySerializer(many=True)

    @extend_schema(
        operation_id="tracks_list",
        parameters=[
            OpenApiParameter("q", str, description="words of a title, artist, album or tag"),
            OpenApiParameter("genre", int, description="FMA genre id (includes sub-genres)"),
            OpenApiParameter(
                "page", int, description=f"1 to {MAX_API_PAGE}, {API_PAGE_SIZE} per page"
            ),
        ],
        responses=TrackListOutputSerializer,
    )
    def get(self, request: Request) -> Response:
        params = self.TrackListInputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data: dict[str, Any] = params.validated_data
        page: int = data["page"]
        # One extra row says whether a next page exists, without counting every match.
        ids = selectors.track_search_ids(
            data["q"][: selectors.MAX_QUERY_CHARS],
            genre_id=data.get("genre"),
            limit=API_PAGE_SIZE + 1,
            offset=(page - 1) * API_PAGE_SIZE,
        )
        tracks = selectors.tracks_by_ids(ids[:API_PAGE_SIZE])
        body = {
            "page": page,
            "next": self._page_url(request, page + 1)
            if len(ids) > API_PAGE_SIZE and page < MAX_API_PAGE
            else None,
            "previous": self._page_url(request, page - 1) if page > 1 else None,
            "results": tracks,
        }
        return Response(self.TrackListOutputSerializer(body).data)

    @staticmethod
    def _page_url(request: Request, page: int) -> str:
        query = request.query_params.copy()
        query["page"] = str(page)
        return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


class AudioFeaturesSerializer(serializers.Serializer):
    """The Echo Nest features; each is null when unknown."""

    acousticness = serializers.FloatField(allow_null=True)
    danceability = serializers.FloatField(allow_null=True)
    energy = serializers.FloatField(allow_null=True)
    instrumentalness = serializers.FloatField(allow_null=True)
    liveness = serializers.FloatField(allow_null=True)
    speechiness = serializers.FloatField(allow_null=True)
    tempo = serializers.FloatField(allow_null=True)
    valence = serializers.FloatField(allow_null=True)


class TrackDetailApi(APIView):
    class TrackDetailOutputSerializer(TrackSummarySerializer):
        genres = _GenreRefSerializer(many=True, source="genres.all")
        tags = serializers.ListField(child=serializers.CharField())
        interest = serializers.IntegerField()
        license = serializers.CharField()
        date_created = serializers.DateTimeField(allow_null=True)
        audio_features = AudioFeaturesSerializer(source="*", allow_null=True)

    @extend_schema(operation_id="tracks_retrieve", responses=TrackDetailOutputSerializer)
    def get(self, request: Request, track_id: int) -> Response:
        track = selectors.track_get(track_id=track_id)
        return Response(self.TrackDetailOutputSerializer(track).data)


class GenreNodeSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="FMA genre id")
    title = serializers.CharField()
    track_count = serializers.IntegerField(help_text="tracks FMA counts in this genre")


# A genre's children are genres: the serializer refers to itself (a named, recursive component).
GenreNodeSerializer._declared_fields["children"] = GenreNodeSerializer(many=True)


class GenreTreeApi(APIView):
    """Every genre, top-level genres first, each with its sub-genres."""

    @extend_schema(operation_id="genres_tree", responses=GenreNodeSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(GenreNodeSerializer(selectors.genre_tree(), many=True).data)


class ArtistDetailApi(APIView):
    class ArtistDetailOutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        fma_id = serializers.IntegerField(allow_null=True, help_text="null for Unknown artist")
        name = serializers.CharField()
        location = serializers.CharField()
        website = serializers.CharField()
        track_count = serializers.IntegerField()
        top_tracks = TrackSummarySerializer(many=True)

    @extend_schema(operation_id="artists_retrieve", responses=ArtistDetailOutputSerializer)
    def get(self, request: Request, artist_id: int) -> Response:
        artist = selectors.artist_get(artist_id=artist_id)
        top_tracks = selectors.artist_top_tracks(artist_id=artist.id, limit=ARTIST_TOP_TRACKS)
        body = {
            "id": artist.id,
            "fma_id": artist.fma_id,
            "name": artist.name,
            "location": artist.location,
            "website": artist.website,
            "track_count": artist.track_count,  # type: ignore[attr-defined]
            "top_tracks": top_tracks,
        }
        return Response(self.ArtistDetailOutputSerializer(body).data)
