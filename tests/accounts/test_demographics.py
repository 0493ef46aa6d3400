"""Demographics: the welcome form and the API share rules; invalid input stores nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.accounts.identity import SESSION_KEY, token_hash
from apps.accounts.models import Listener
from apps.history.models import OutboxEvent

pytestmark = pytest.mark.django_db

VALID = {"age": 34, "gender": "NB", "country": "BR", "occupation": "arts"}
INVALID_CASES = [
    pytest.param({"age": 12}, "age", id="age-12"),
    pytest.param({"age": 101}, "age", id="age-101"),
    pytest.param({"age": "abc"}, "age", id="age-abc"),
    pytest.param({"gender": "X"}, "gender", id="gender-X"),
    pytest.param({"country": "ZZ"}, "country", id="country-ZZ"),
    pytest.param({"occupation": "astronaut"}, "occupation", id="occupation-not-listed"),
    pytest.param({"age": None}, "age", id="age-missing"),
    pytest.param({"gender": None}, "gender", id="gender-missing"),
    pytest.param({"country": None}, "country", id="country-missing"),
    pytest.param({"occupation": None}, "occupation", id="occupation-missing"),
    pytest.param({"favourite_band": "Muse"}, "favourite_band", id="extra-field"),
]


def _data(change: dict[str, Any]) -> dict[str, Any]:
    data = {**VALID, **change}
    return {key: value for key, value in data.items() if value is not None}


# --- HTML form --------------------------------------------------------------------------------


def test_first_visit_is_sent_to_the_form(client: Client) -> None:
    response = client.get("/profile")
    assert response.status_code == 302
    assert response["Location"] == "/welcome?next=%2Fprofile"


def test_the_form_has_client_side_rules(client: Client) -> None:
    html = client.get("/welcome").content.decode()

    assert 'type="range"' in html
    assert 'min="13"' in html and 'max="100"' in html
    assert '<output id="age-output"' in html
    assert 'value="NB"' in html and "Non-binary" in html
    assert 'value="BR"' in html
    assert html.count("required") >= 4


def test_a_valid_form_creates_the_listener_and_ties_it_to_the_session(client: Client) -> None:
    response = client.post("/welcome", {**VALID, "next": "/profile"})

    listener = Listener.objects.get()
    assert response.status_code == 302
    assert response["Location"] == "/profile"
    assert client.session[SESSION_KEY] == listener.pk
    assert (listener.age, listener.gender, str(listener.country), listener.occupation) == (
        34,
        "NB",
        "BR",
        "arts",
    )
    assert listener.has_demographics
    assert listener.demographics_version == 1
    assert OutboxEvent.objects.get().payload["details"] == VALID
    assert client.get("/profile").status_code == 200


def test_the_session_cookie_is_httponly_and_samesite_lax(client: Client) -> None:
    response = client.post("/welcome", VALID)
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_next_cannot_leave_the_site(client: Client) -> None:
    response = client.post("/welcome", {**VALID, "next": "https://evil.example/"})
    assert response["Location"] == "/"


@pytest.mark.parametrize(("change", "field"), INVALID_CASES)
def test_invalid_form_input_shows_an_error_next_to_the_field(
    client: Client, change: dict[str, Any], field: str
) -> None:
    response = client.post("/welcome", _data(change))

    html = response.content.decode()
    assert response.status_code == 200
    if field == "favourite_band":
        assert "Unexpected field: favourite_band." in html
    else:
        assert f'id="{field}-errors"' in html
    assert not Listener.objects.exists()
    assert SESSION_KEY not in client.session


def test_the_welcome_form_enforces_csrf() -> None:
    client = Client(enforce_csrf_checks=True)
    assert client.post("/welcome", VALID).status_code == 403
    assert not Listener.objects.exists()


# --- API --------------------------------------------------------------------------------------


def test_api_post_creates_a_listener_and_shows_the_token_once() -> None:
    api = APIClient()

    response = api.post("/api/demographics", VALID, format="json")

    body = response.json()
    listener = Listener.objects.get()
    assert response.status_code == 201
    assert body["listener"]["country"] == "BR"
    assert body["listener"]["completed"] is True
    assert listener.api_token_hash == token_hash(body["api_token"])
    api.credentials(HTTP_AUTHORIZATION=f"Token {body['api_token']}")
    again = api.get("/api/demographics").json()
    assert again["id"] == str(listener.public_id)
    assert "api_token" not in again


@pytest.mark.parametrize(("change", "field"), INVALID_CASES)
def test_invalid_api_input_is_a_400_naming_the_field(change: dict[str, Any], field: str) -> None:
    response = APIClient().post("/api/demographics", _data(change), format="json")

    error = response.json()["error"]
    assert response.status_code == 400
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [field]
    assert not Listener.objects.exists()
    assert not OutboxEvent.objects.exists()


def test_put_changes_demographics_records_an_event_and_bumps_the_version(
    api_client_for: Any, listener: Listener
) -> None:
    api = api_client_for(listener)

    response = api.put("/api/demographics", {**VALID, "age": 61}, format="json")

    listener.refresh_from_db()
    assert response.status_code == 200
    assert response.json()["age"] == 61
    assert listener.age == 61
    assert listener.demographics_version == 2
    events = OutboxEvent.objects.filter(listener=listener, payload__type="demographics")
    assert [e.payload["details"]["age"] for e in events.order_by("id")] == [29, 61]


def test_put_with_invalid_input_changes_nothing(api_client_for: Any, listener: Listener) -> None:
    response = api_client_for(listener).put(
        "/api/demographics", {**VALID, "age": 12}, format="json"
    )

    listener.refresh_from_db()
    assert response.status_code == 400
    assert listener.age == 29
    assert listener.demographics_version == 1


def test_post_when_complete_is_a_conflict(api_client_for: Any, listener: Listener) -> None:
    response = api_client_for(listener).post("/api/demographics", VALID, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_complete"


def test_get_and_put_without_a_profile_name_the_missing_step() -> None:
    for method in ("get", "put"):
        response = getattr(APIClient(), method)("/api/demographics", VALID, format="json")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "demographics_required"


def test_outsider_sees_only_their_own_profile(api_client_for: Any, listener: Listener) -> None:
    from tests.factories import make_listener

    outsider = make_listener(age=70)

    response = api_client_for(outsider).put(
        "/api/demographics", {**VALID, "age": 15}, format="json"
    )

    listener.refresh_from_db()
    assert response.json()["id"] == str(outsider.public_id)
    assert listener.age == 29
