"""History and events API: rules as JSON errors, pagination, and outsiders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import Listener
from apps.history.models import HISTORY_LIMIT, OutboxEvent
from apps.history.services import history_add, outbox_drain
from tests.factories import make_listener, make_track, make_tracks

pytestmark = pytest.mark.django_db
ApiFor = Callable[[Listener], APIClient]


def _error(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = response.json()["error"]
    assert body["status"] == response.status_code
    return body


def test_add_list_and_delete(api_client_for: ApiFor, listener: Listener) -> None:
    api = api_client_for(listener)
    first, second = make_tracks(2)

    api.post("/api/history", {"track_id": first.pk}, format="json")
    created = api.post(
        "/api/history",
        {"track_id": second.pk, "was_recommended": True, "recommendation_confidence": 0.7},
        format="json",
    )
    deleted = api.delete(f"/api/history/{second.pk}")
    listed = api.get("/api/history")

    assert created.status_code == 201
    assert created.json()["count"] == 2
    assert [e["track_id"] for e in created.json()["entries"]] == [first.pk, second.pk]
    assert [e["removable"] for e in created.json()["entries"]] == [False, True]
    assert deleted.status_code == 204
    assert listed.json()["count"] == 1
    assert listed.json()["limit"] == HISTORY_LIMIT
    add = OutboxEvent.objects.get(payload__track=second.pk, payload__type="add")
    assert add.payload["was_recommended"] is True
    assert add.payload["recommendation_confidence"] == 0.7


@pytest.mark.parametrize(
    ("setup", "status", "code"),
    [
        ("duplicate", 409, "already_in_history"),
        ("full", 409, "history_full"),
        ("unknown", 400, "invalid"),
    ],
)
def test_add_refusals(
    api_client_for: ApiFor, listener: Listener, setup: str, status: int, code: str
) -> None:
    tracks = make_tracks(HISTORY_LIMIT if setup == "full" else 1)
    for track in tracks:
        history_add(listener=listener, track_id=track.pk)
    track_id = {"duplicate": tracks[0].pk, "full": make_track().pk, "unknown": 777777}[setup]

    response = api_client_for(listener).post("/api/history", {"track_id": track_id}, format="json")

    assert response.status_code == status
    error = _error(response)
    assert error["code"] == code
    if setup == "unknown":
        assert "track_id" in error["fields"]
    assert listener.history.count() == len(tracks)


def test_delete_refusals(api_client_for: ApiFor, listener: Listener) -> None:
    first, second = make_tracks(2)
    history_add(listener=listener, track_id=first.pk)
    api = api_client_for(listener)

    locked = api.delete(f"/api/history/{first.pk}")
    missing = api.delete(f"/api/history/{second.pk}")

    assert (locked.status_code, _error(locked)["code"]) == (409, "first_song_locked")
    assert (missing.status_code, _error(missing)["code"]) == (404, "not_in_history")


def test_invalid_input_names_the_field(api_client_for: ApiFor, listener: Listener) -> None:
    response = api_client_for(listener).post("/api/history", {"track_id": "abc"}, format="json")
    assert response.status_code == 400
    assert "track_id" in _error(response)["fields"]


def test_events_are_own_newest_first_and_paginated(
    api_client_for: ApiFor, listener: Listener
) -> None:
    other = make_listener()
    tracks = make_tracks(4)
    for track in tracks:
        history_add(listener=listener, track_id=track.pk)
    history_add(listener=other, track_id=tracks[0].pk)
    outbox_drain()
    api = api_client_for(listener)

    page1 = api.get("/api/events", {"page_size": 3}).json()
    page2 = api.get("/api/events", {"page_size": 3, "page": 2}).json()

    assert page1["count"] == 5  # demographics + 4 adds, none of the other listener's
    assert page1["has_next"] is True
    assert [e["track"] for e in page1["results"]] == [t.pk for t in tracks[::-1][:3]]
    assert [e["type"] for e in page2["results"]] == ["add", "demographics"]
    assert page2["has_next"] is False


def test_bad_paging_is_a_400(api_client_for: ApiFor, listener: Listener) -> None:
    response = api_client_for(listener).get("/api/events", {"page": 0, "page_size": 1000})
    assert response.status_code == 400
    assert set(_error(response)["fields"]) == {"page", "page_size"}


def test_record_play_like_skip(api_client_for: ApiFor, listener: Listener) -> None:
    track = make_track()
    api = api_client_for(listener)

    played = api.post("/api/events", {"type": "play", "track_id": track.pk}, format="json")
    invalid = api.post("/api/events", {"type": "add", "track_id": track.pk}, format="json")

    assert played.status_code == 202
    assert played.json()["type"] == "play"
    assert invalid.status_code == 400
    assert "type" in _error(invalid)["fields"]


def test_outsider_cannot_see_or_change_anothers_history_or_events(
    api_client_for: ApiFor, listener: Listener
) -> None:
    first, second = make_tracks(2)
    history_add(listener=listener, track_id=first.pk)
    history_add(listener=listener, track_id=second.pk)
    outsider = api_client_for(make_listener(age=50))
    outbox_drain()

    listed = outsider.get("/api/history").json()
    events = outsider.get("/api/events").json()
    deleted = outsider.delete(f"/api/history/{second.pk}")

    assert listed["count"] == 0
    assert [e["type"] for e in events["results"]] == ["demographics"]
    assert deleted.status_code == 404
    assert listener.history.count() == 2


def test_session_api_requires_csrf(listener: Listener) -> None:
    from tests.conftest import login_listener

    client = login_listener(APIClient(enforce_csrf_checks=True), listener)

    response = client.post("/api/history", {"track_id": make_track().pk}, format="json")

    assert response.status_code == 403
    assert "CSRF" in _error(response)["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/history"), ("post", "/api/history"), ("get", "/api/events")],
)
def test_without_a_profile_the_api_names_the_missing_step(method: str, path: str) -> None:
    response = getattr(APIClient(), method)(path)

    assert response.status_code == 403
    error = _error(response)
    assert error["code"] == "demographics_required"
    assert "POST /api/demographics" in error["message"]


def test_an_invalid_token_is_401() -> None:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token mr_not-a-real-token")

    response = api.get("/api/history")

    assert response.status_code == 401
    assert _error(response)["code"] == "authentication_failed"
