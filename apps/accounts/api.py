"""Demographics API: ``GET/POST/PUT /api/demographics``.

POST without a listener creates one (the way scripts start) and returns its API token once;
the browser session is not attached (a script has no use for it, and a forged cross-site
POST must not be able to plant a profile in someone's browser).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.authentication import (
    LISTENER_AUTHENTICATION,
    DemographicsRequired,
)
from apps.accounts.models import Listener
from apps.accounts.rules import (
    Gender,
    Occupation,
    unexpected_fields,
    validate_age,
    validate_country,
    validate_gender,
    validate_occupation,
)
from apps.accounts.services import (
    Demographics,
    api_token_rotate,
    demographics_update,
    listener_create,
)


class AlreadyComplete(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Demographics are already complete: use PUT to change them."
    default_code = "already_complete"


class DemographicsInputSerializer(serializers.Serializer):
    age = serializers.IntegerField(validators=[validate_age])
    gender = serializers.ChoiceField(choices=Gender.choices, validators=[validate_gender])
    country = serializers.CharField(
        min_length=2, max_length=2, validators=[validate_country], help_text="ISO 3166-1 alpha-2"
    )
    occupation = serializers.ChoiceField(
        choices=Occupation.choices, validators=[validate_occupation]
    )

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            extra = unexpected_fields(data.keys())
            if extra:
                raise serializers.ValidationError({key: ["Unexpected field."] for key in extra})
        return super().to_internal_value(data)

    def demographics(self) -> Demographics:
        return Demographics(**self.validated_data)


class DemographicsOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    age = serializers.IntegerField(allow_null=True)
    gender = serializers.CharField()
    country = serializers.CharField()
    occupation = serializers.CharField()
    completed = serializers.BooleanField(source="has_demographics")
    demographics_version = serializers.IntegerField()
    history_version = serializers.IntegerField()

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        data["country"] = str(instance.country)
        return data


class DemographicsApi(APIView):
    authentication_classes = LISTENER_AUTHENTICATION
    permission_classes: list[Any] = []

    def _listener(self, request: Request) -> Listener:
        if not isinstance(request.user, Listener):
            raise DemographicsRequired()
        return request.user

    @extend_schema(responses=DemographicsOutputSerializer, operation_id="demographics_retrieve")
    def get(self, request: Request) -> Response:
        listener = self._listener(request)
        if not listener.has_demographics:
            raise DemographicsRequired()
        return Response(DemographicsOutputSerializer(listener).data)

    @extend_schema(
        request=DemographicsInputSerializer,
        responses={
            201: inline_serializer(
                "DemographicsCreated",
                {
                    "listener": DemographicsOutputSerializer(),
                    "api_token": serializers.CharField(
                        allow_null=True, help_text="Shown once, when the profile is created."
                    ),
                },
            )
        },
        operation_id="demographics_create",
    )
    def post(self, request: Request) -> Response:
        """Create a listener with demographics (or complete them for the current one)."""
        serializer = DemographicsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        listener = request.user if isinstance(request.user, Listener) else None
        token: str | None = None
        if listener is not None and listener.has_demographics:
            raise AlreadyComplete()
        if listener is None:
            listener = listener_create(demographics=serializer.demographics())
            token = api_token_rotate(listener=listener)
            listener.refresh_from_db()
        else:
            listener = demographics_update(
                listener=listener, demographics=serializer.demographics()
            )
        body = {"listener": DemographicsOutputSerializer(listener).data, "api_token": token}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=DemographicsInputSerializer,
        responses=DemographicsOutputSerializer,
        operation_id="demographics_update",
    )
    def put(self, request: Request) -> Response:
        listener = self._listener(request)
        serializer = DemographicsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        listener = demographics_update(listener=listener, demographics=serializer.demographics())
        return Response(DemographicsOutputSerializer(listener).data)
