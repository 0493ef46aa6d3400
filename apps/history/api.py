"""History and events API: ``GET/POST /api/history``, ``DELETE /api/history/{track_id}``,
``GET/POST /api/events``. A listener only ever sees and changes their own data."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.authentication import (
    LISTENER_AUTHENTICATION,
    HasDemographics,
    request_listener,
)
from apps.history.eventstore import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, get_event_store
from apps.history.models import CLIENT_EVENT_TYPES, HISTORY_LIMIT, EventType
from apps.history.selectors import history_summary
from apps.history.services import (
    HistoryError,
    NotInHistory,
    TrackNotFound,
    event_record,
    history_add,
    history_remove,
)


class HistoryRefused(exceptions.APIException):
    """A history rule said no (duplicate, full, first song): 409 with the rule's code."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def _raise_for(error: HistoryError) -> None:
    if isinstance(error, TrackNotFound):
        raise exceptions.ValidationError({"track_id": [error.message]})
    if isinstance(error, NotInHistory):
        raise exceptions.NotFound(error.message, code=error.code)
    raise HistoryRefused(error.message, code=error.code)


class EntryOutputSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    track_id = serializers.IntegerField()
    title = serializers.CharField(source="track.title")
    artist = serializers.CharField(source="track.artist.name")
    added_at = serializers.DateTimeField()
    was_recommended = serializers.BooleanField()
    removable = serializers.SerializerMethodField()

    def get_removable(self, entry: Any) -> bool:
        return bool(entry.track_id != self.context.get("first_track_id"))


class HistoryApi(APIView):
    authentication_classes = LISTENER_AUTHENTICATION
    permission_classes = [HasDemographics]

    class HistoryAddInputSerializer(serializers.Serializer):
        track_id = serializers.IntegerField(min_value=1)
        was_recommended = serializers.BooleanField(default=False)
        recommendation_confidence = serializers.FloatField(
            required=False, allow_null=True, min_value=0.0, max_value=1.0
        )
        recommendation_id = serializers.CharField(required=False, allow_null=True, max_length=64)

    class HistoryOutputSerializer(serializers.Serializer):
        count = serializers.IntegerField()
        limit = serializers.IntegerField()
        slots_left = serializers.IntegerField()
        full = serializers.BooleanField()
        entries = EntryOutputSerializer(many=True)

    def _body(self, request: Request) -> dict[str, Any]:
        summary = history_summary(listener=request_listener(request))
        context = {"first_track_id": summary.first_track_id}
        return self.HistoryOutputSerializer(summary, context=context).data

    @extend_schema(responses=HistoryOutputSerializer, operation_id="history_list")
    def get(self, request: Request) -> Response:
        """The listener's history in the order added (at most 50 songs)."""
        return Response(self._body(request))

    @extend_schema(
        request=HistoryAddInputSerializer,
        responses={201: HistoryOutputSerializer},
        operation_id="history_add",
        description=f"Add a track. 409 when it is already there or the history holds "
        f"{HISTORY_LIMIT} songs.",
    )
    def post(self, request: Request) -> Response:
        serializer = self.HistoryAddInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            history_add(listener=request_listener(request), **serializer.validated_data)
        except HistoryError as error:
            _raise_for(error)
        return Response(self._body(request), status=status.HTTP_201_CREATED)


class HistoryEntryApi(APIView):
    authentication_classes = LISTENER_AUTHENTICATION
    permission_classes = [HasDemographics]

    @extend_schema(
        responses={204: None},
        operation_id="history_remove",
        description="Remove a track. 409 for the first (oldest) song, which stays.",
    )
    def delete(self, request: Request, track_id: int) -> Response:
        try:
            history_remove(listener=request_listener(request), track_id=track_id)
        except HistoryError as error:
            _raise_for(error)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EventOutputSerializer(serializers.Serializer):
    event_id = serializers.CharField()
    type = serializers.CharField()
    track = serializers.IntegerField(allow_null=True)
    timestamp = serializers.DateTimeField()
    was_recommended = serializers.BooleanField()
    recommendation_confidence = serializers.FloatField(allow_null=True)
    recommendation_id = serializers.CharField(allow_null=True)


class EventsApi(APIView):
    authentication_classes = LISTENER_AUTHENTICATION
    permission_classes = [HasDemographics]

    class EventRecordInputSerializer(serializers.Serializer):
        type = serializers.ChoiceField(choices=[(t.value, t.label) for t in CLIENT_EVENT_TYPES])
        track_id = serializers.IntegerField(min_value=1)
        was_recommended = serializers.BooleanField(default=False)
        recommendation_confidence = serializers.FloatField(
            required=False, allow_null=True, min_value=0.0, max_value=1.0
        )
        recommendation_id = serializers.CharField(required=False, allow_null=True, max_length=64)

    class EventFilterSerializer(serializers.Serializer):
        page = serializers.IntegerField(min_value=1, default=1)
        page_size = serializers.IntegerField(
            min_value=1, max_value=MAX_PAGE_SIZE, default=DEFAULT_PAGE_SIZE
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("page", int, description="1-based page number"),
            OpenApiParameter("page_size", int, description=f"1-{MAX_PAGE_SIZE}"),
        ],
        responses=inline_serializer(
            "EventPage",
            {
                "count": serializers.IntegerField(),
                "page": serializers.IntegerField(),
                "page_size": serializers.IntegerField(),
                "has_next": serializers.BooleanField(),
                "results": EventOutputSerializer(many=True),
            },
        ),
        operation_id="events_list",
    )
    def get(self, request: Request) -> Response:
        """The listener's own events, newest first (as stored in the event store)."""
        filters = self.EventFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = get_event_store().events_for(
            request_listener(request).pk,
            page=filters.validated_data["page"],
            page_size=filters.validated_data["page_size"],
        )
        return Response(
            {
                "count": page.total,
                "page": page.page,
                "page_size": page.page_size,
                "has_next": page.has_next,
                "results": EventOutputSerializer(page.events, many=True).data,
            }
        )

    @extend_schema(
        request=EventRecordInputSerializer,
        responses={202: EventOutputSerializer},
        operation_id="events_record",
        description="Record a play, like or skip. Accepted now, stored in the event store soon.",
    )
    def post(self, request: Request) -> Response:
        serializer = self.EventRecordInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            event = event_record(
                listener=request_listener(request),
                type=EventType(data["type"]),
                track_id=data["track_id"],
                was_recommended=data["was_recommended"],
                recommendation_confidence=data.get("recommendation_confidence"),
                recommendation_id=data.get("recommendation_id"),
            )
        except HistoryError as error:
            _raise_for(error)
        return Response(EventOutputSerializer(event).data, status=status.HTTP_202_ACCEPTED)
