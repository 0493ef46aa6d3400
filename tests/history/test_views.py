"""Add/Remove pages and the history panel: counter, banners, disabled buttons, HTMX, CSRF."""

from __future__ import annotations

import re

import pytest
from django.test import Client, RequestFactory

from apps.accounts.identity import SESSION_KEY
from apps.accounts.models import Listener
from apps.catalog.models import Track
from apps.history.context_processors import history as history_context
from apps.history.models import HISTORY_LIMIT, HistoryEntry
from apps.history.services import history_add
from tests.conftest import login_listener
from tests.factories import make_listener, make_track, make_tracks

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


def _fill(listener: Listener, count: int) -> list[Track]:
    tracks = make_tracks(count)
    for track in tracks:
        history_add(listener=listener, track_id=track.pk)
    return tracks


def _counter(html: str) -> str:
    match = re.search(r'id="history-counter"[^>]*>([^<]+)<', html)
    assert match, "no counter in the panel"
    return match.group(1)


def test_htmx_add_returns_the_panel_with_the_new_counter(
    listener_client: Client, listener: Listener
) -> None:
    track = make_track(title="Night Drive")

    response = listener_client.post("/history/add", {"track_id": track.pk}, headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="history-panel"')
    assert _counter(html) == f"1/{HISTORY_LIMIT}"
    assert "Added “Night Drive”." in html
    assert "Night Drive" in html
    assert "historyChanged" in response.headers["HX-Trigger"]
    assert list(listener.history.values_list("track_id", flat=True)) == [track.pk]


def test_add_without_javascript_redirects_back_with_a_message(
    listener_client: Client, listener: Listener
) -> None:
    track = make_track()

    response = listener_client.post(
        "/history/add", {"track_id": track.pk}, HTTP_REFERER="http://testserver/?q=night"
    )

    assert response.status_code == 302
    assert response["Location"] == "http://testserver/?q=night"
    assert listener.history.count() == 1


def test_add_redirect_ignores_a_foreign_referer(listener_client: Client) -> None:
    response = listener_client.post(
        "/history/add", {"track_id": make_track().pk}, HTTP_REFERER="https://evil.example/"
    )
    assert response["Location"] == "/"


def test_a_duplicate_add_says_so_and_stores_nothing(
    listener_client: Client, listener: Listener
) -> None:
    [track] = _fill(listener, 1)

    response = listener_client.post("/history/add", {"track_id": track.pk}, headers=HTMX)

    assert "This song is already in your history." in response.content.decode()
    assert listener.history.count() == 1


def test_an_invalid_track_id_is_a_message_not_an_error(listener_client: Client) -> None:
    response = listener_client.post("/history/add", {"track_id": "abc"}, headers=HTMX)
    assert response.status_code == 200
    assert "Choose a song to add." in response.content.decode()


@pytest.mark.parametrize(
    ("count", "banner"),
    [
        (44, None),
        (45, "5 slots remaining in your history."),
        (49, "1 slot remaining in your history."),
        (50, "Maximum limit reached. Please remove songs to continue."),
    ],
)
def test_banners_from_45_and_at_50(
    listener_client: Client, listener: Listener, count: int, banner: str | None
) -> None:
    tracks = _fill(listener, count)

    response = listener_client.post("/history/remove", {"track_id": tracks[0].pk}, headers=HTMX)

    html = response.content.decode()
    assert _counter(html) == f"{count}/50"
    if banner is None:
        assert 'id="history-banner"' not in html
    else:
        assert banner in html


def test_add_at_the_limit_is_refused(listener_client: Client, listener: Listener) -> None:
    _fill(listener, HISTORY_LIMIT)

    response = listener_client.post("/history/add", {"track_id": make_track().pk}, headers=HTMX)

    html = response.content.decode()
    assert "Maximum limit reached. Please remove songs to continue." in html
    assert _counter(html) == "50/50"
    assert listener.history.count() == HISTORY_LIMIT


def test_the_first_song_has_a_disabled_remove_button_and_the_server_refuses(
    listener_client: Client, listener: Listener
) -> None:
    first, _second = _fill(listener, 2)

    response = listener_client.post("/history/remove", {"track_id": first.pk}, headers=HTMX)

    html = response.content.decode()
    assert "The first song in your history cannot be removed." in html
    buttons = re.findall(r"<button[^>]*>Remove</button>", html)
    assert len(buttons) == 2
    assert "disabled" in buttons[0]
    assert "disabled" not in buttons[1]
    assert listener.history.count() == 2


def test_remove_updates_the_counter(listener_client: Client, listener: Listener) -> None:
    tracks = _fill(listener, 3)

    response = listener_client.post("/history/remove", {"track_id": tracks[1].pk}, headers=HTMX)

    assert _counter(response.content.decode()) == "2/50"
    assert list(listener.history.order_by("position").values_list("track_id", flat=True)) == [
        tracks[0].pk,
        tracks[2].pk,
    ]


def test_context_variables_for_track_cards(rf: RequestFactory, listener: Listener) -> None:
    tracks = _fill(listener, 2)
    request = rf.get("/")
    request.session = {SESSION_KEY: listener.pk}  # type: ignore[assignment]

    context = history_context(request)

    assert context["history_count"] == 2
    assert context["history_limit"] == 50
    assert context["history_slots_left"] == 48
    assert context["history_full"] is False
    assert context["history_track_ids"] == {tracks[0].pk, tracks[1].pk}


def test_context_without_a_listener_is_empty(rf: RequestFactory) -> None:
    request = rf.get("/")
    request.session = {}  # type: ignore[assignment]

    context = history_context(request)

    assert (context["history_count"], context["history_full"]) == (0, False)
    assert context["history_track_ids"] == frozenset()


def test_panel_query_count_does_not_grow_with_the_history(
    listener_client: Client, listener: Listener, django_assert_max_num_queries: object
) -> None:
    tracks = _fill(listener, 30)

    # session, listener, lock, checks, insert, outbox, version, then one read for the panel
    with django_assert_max_num_queries(16):  # type: ignore[operator]
        listener_client.post("/history/remove", {"track_id": tracks[5].pk}, headers=HTMX)


def test_csrf_is_enforced_on_add_and_remove(listener: Listener) -> None:
    client = login_listener(Client(enforce_csrf_checks=True), listener)
    track = make_track()

    add = client.post("/history/add", {"track_id": track.pk}, headers=HTMX)
    remove = client.post("/history/remove", {"track_id": track.pk}, headers=HTMX)

    assert add.status_code == remove.status_code == 403
    assert not HistoryEntry.objects.exists()


def test_get_is_not_allowed(listener_client: Client) -> None:
    assert listener_client.get("/history/add").status_code == 405


def test_outsider_cannot_remove_someone_elses_song(
    listener_client: Client, listener: Listener
) -> None:
    owner = make_listener()
    first, second = make_tracks(2)
    history_add(listener=owner, track_id=first.pk)
    history_add(listener=owner, track_id=second.pk)

    response = listener_client.post("/history/remove", {"track_id": second.pk}, headers=HTMX)

    assert "This song is not in your history." in response.content.decode()
    assert owner.history.count() == 2
    assert "Song" not in response.content.decode().split("</header>")[1].split("history-message")[0]


def test_without_demographics_add_redirects_to_the_form(client: Client) -> None:
    track = make_track()

    plain = client.post("/history/add", {"track_id": track.pk})
    htmx = client.post("/history/add", {"track_id": track.pk}, headers=HTMX)

    assert plain.status_code == 302
    assert plain["Location"].startswith("/welcome?next=")
    assert htmx.headers["HX-Redirect"].startswith("/welcome")
    assert not HistoryEntry.objects.exists()
