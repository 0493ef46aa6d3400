"""The profile page: update, API token shown once, download my data, delete my profile."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.identity import SESSION_KEY
from apps.accounts.models import Listener
from apps.history.eventstore import use_event_store
from apps.history.models import HistoryEntry, ListeningEvent, OutboxEvent
from apps.history.services import history_add, outbox_drain
from tests.conftest import login_listener
from tests.factories import make_listener, make_tracks
from tests.history.conftest import monty_store

pytestmark = pytest.mark.django_db


def test_profile_shows_the_current_demographics(listener_client: Client) -> None:
    html = listener_client.get("/profile").content.decode()

    assert 'value="29"' in html
    assert 'value="F" required checked' in html or ('value="F"' in html and "checked" in html)
    assert '<option value="DE" selected>' in html
    assert "Download my data" in html
    assert "Delete my profile" in html


def test_profile_update_saves_and_redirects(listener_client: Client, listener: Listener) -> None:
    response = listener_client.post(
        "/profile", {"age": 40, "gender": "M", "country": "JP", "occupation": "retired"}
    )

    listener.refresh_from_db()
    assert response.status_code == 302
    assert (listener.age, str(listener.country), listener.demographics_version) == (40, "JP", 2)


def test_profile_update_with_an_error_changes_nothing(
    listener_client: Client, listener: Listener
) -> None:
    response = listener_client.post(
        "/profile", {"age": 40, "gender": "M", "country": "ZZ", "occupation": "retired"}
    )

    listener.refresh_from_db()
    assert 'id="country-errors"' in response.content.decode()
    assert (listener.age, listener.demographics_version) == (29, 1)


def test_the_api_token_is_shown_once_and_works(listener_client: Client, listener: Listener) -> None:
    response = listener_client.post("/profile/token", HTTP_HX_REQUEST="true")

    html = response.content.decode()
    token = html.split('id="api-token-value">')[1].split("<")[0]
    assert html.lstrip().startswith('<section id="api-token"')
    assert token.startswith("mr_")
    assert token not in listener_client.get("/profile").content.decode()
    listener.refresh_from_db()
    assert token not in (listener.api_token_hash or "")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/demographics").json()["id"] == str(listener.public_id)


def test_a_new_token_replaces_the_old_one(api_client_for: Any, listener: Listener) -> None:
    old = api_client_for(listener)
    new = api_client_for(listener)

    assert old.get("/api/history").status_code == 401
    assert new.get("/api/history").status_code == 200


def test_download_my_data(listener_client: Client, listener: Listener) -> None:
    tracks = make_tracks(2)
    for track in tracks:
        history_add(listener=listener, track_id=track.pk)
    outbox_drain()
    history_add(listener=listener, track_id=make_tracks(1)[0].pk)  # still in the outbox

    response = listener_client.get("/profile/export")

    data = json.loads(response.content)
    assert response["Content-Disposition"] == 'attachment; filename="musicrec-my-data.json"'
    assert data["profile"]["id"] == str(listener.public_id)
    assert data["profile"]["age"] == 29
    assert [h["track_id"] for h in data["history"]][:2] == [t.pk for t in tracks]
    assert sorted(e["type"] for e in data["events"]) == ["add", "add", "add", "demographics"]
    assert "api_token_hash" not in json.dumps(data)


def test_delete_asks_for_confirmation_first(listener_client: Client, listener: Listener) -> None:
    response = listener_client.get("/profile/delete")

    assert "Yes, delete everything" in response.content.decode()
    assert Listener.objects.filter(pk=listener.pk).exists()


@pytest.mark.parametrize("store_kind", ["sql", "montydb"])
def test_delete_removes_listener_history_and_events_everywhere(
    listener_client: Client,
    listener: Listener,
    django_capture_on_commit_callbacks: Any,
    store_kind: str,
) -> None:
    from apps.history.eventstore import SqlEventStore

    store: Any = SqlEventStore() if store_kind == "sql" else monty_store()
    keeper = make_listener()
    tracks = make_tracks(2)
    with use_event_store(store):
        for owner in (listener, keeper):
            history_add(listener=owner, track_id=tracks[0].pk)
        history_add(listener=listener, track_id=tracks[1].pk)
        outbox_drain()
        assert store.events_for(listener.pk).total == 3

        with django_capture_on_commit_callbacks(execute=True):
            response = listener_client.post("/profile/delete")

        assert store.events_for(listener.pk).total == 0
        assert store.events_for(keeper.pk).total == 2
    assert response.status_code == 302
    assert response["Location"] == "/welcome"
    assert not Listener.objects.filter(pk=listener.pk).exists()
    assert not HistoryEntry.objects.filter(listener_id=listener.pk).exists()
    assert not OutboxEvent.objects.filter(listener_id=listener.pk).exists()
    assert SESSION_KEY not in listener_client.session
    if store_kind == "sql":
        assert not ListeningEvent.objects.filter(listener_id=listener.pk).exists()


def test_profile_posts_enforce_csrf(listener: Listener) -> None:
    client = login_listener(Client(enforce_csrf_checks=True), listener)

    for path in ("/profile", "/profile/token", "/profile/delete"):
        assert client.post(path, {"age": 50}).status_code == 403
    assert Listener.objects.filter(pk=listener.pk, age=29, api_token_hash=None).exists()


def test_outsider_pages_show_only_their_own_data(listener: Listener) -> None:
    history_add(listener=listener, track_id=make_tracks(1, title="Secret Song")[0].pk)
    outsider = make_listener(age=55, country="FR")
    client = login_listener(Client(), outsider)

    profile = client.get("/profile").content.decode()
    export = json.loads(client.get("/profile/export").content)
    client.post("/profile/delete")

    assert 'value="55"' in profile
    assert export["history"] == []
    assert all(e["listener"] == outsider.pk for e in export["events"])
    assert Listener.objects.filter(pk=listener.pk).exists()
    assert listener.history.count() == 1
