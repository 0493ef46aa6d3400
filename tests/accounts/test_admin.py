"""Admin: listeners without credentials, aggregates, read-only events, the outbox."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from apps.accounts.models import Listener
from apps.accounts.services import api_token_rotate
from apps.history.services import history_add
from tests.factories import make_listener, make_tracks

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client: Client) -> Client:
    user = User.objects.create_superuser("admin", password="pw-for-tests")
    client.force_login(user)
    return client


def test_listener_list_shows_demographics_and_history_size_but_no_token(
    admin_client: Client,
) -> None:
    listener = make_listener(age=41, country="KE")
    api_token_rotate(listener=listener)
    for track in make_tracks(3):
        history_add(listener=listener, track_id=track.pk)
    listener.refresh_from_db()

    changelist = admin_client.get("/admin/accounts/listener/").content.decode()
    change = admin_client.get(f"/admin/accounts/listener/{listener.pk}/change/").content.decode()

    assert "41" in changelist and "Kenya" in changelist
    assert '<td class="field-history_size">3</td>' in changelist
    assert listener.api_token_hash
    assert listener.api_token_hash not in changelist + change
    assert "sessionid" not in change


def test_aggregate_page_counts_by_age_band_gender_and_country(admin_client: Client) -> None:
    make_listener(age=19, gender="F", country="DE")
    make_listener(age=22, gender="M", country="DE")
    make_listener(age=70, gender="NB", country="IN")
    Listener.objects.create()  # no demographics: not counted

    html = admin_client.get("/admin/accounts/listener/stats/").content.decode()

    assert "<td>18-24</td><td>2</td>" in html
    assert "<td>65-100</td><td>1</td>" in html
    assert "<td>Non-binary</td><td>1</td>" in html
    assert "<td>DE</td><td>2</td>" in html


@pytest.mark.parametrize(
    "path",
    [
        "/admin/history/historyentry/",
        "/admin/history/listeningevent/",
        "/admin/history/outboxevent/?state__exact=pending",
        "/admin/history/predictionlog/",
    ],
)
def test_history_admin_pages_render(admin_client: Client, path: str) -> None:
    listener = make_listener()
    history_add(listener=listener, track_id=make_tracks(1)[0].pk)
    assert admin_client.get(path).status_code == 200


def test_events_are_read_only_in_the_admin(admin_client: Client) -> None:
    assert admin_client.get("/admin/history/listeningevent/add/").status_code == 403
