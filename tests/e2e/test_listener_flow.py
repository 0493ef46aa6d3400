"""Browser: demographics → search → add three songs → remove one → the 45 and 50 limits.

Screenshots go to test-output/ (``test_output_dir``); look at them after a run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from apps.accounts.models import Listener
from apps.catalog.models import Track
from apps.history.models import HISTORY_LIMIT
from apps.history.services import history_add
from tests.factories import make_artist, make_track, make_tracks

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _searchable(tracks: list[Track]) -> None:
    from apps.catalog.services import track_search_index_refresh

    track_search_index_refresh(track_ids=[track.pk for track in tracks])


def _add_button(page: Any, track: Track) -> Any:
    # The search results' card (the recommendation card above them may offer the same song).
    form = page.locator('#search-results .track-list form[hx-post="/history/add"]').filter(
        has=page.locator(f'input[name="track_id"][value="{track.pk}"]')
    )
    return form.locator("button")


def test_a_new_listener_builds_a_history_and_meets_the_limits(
    page: Any, live_server: Any, test_output_dir: Path
) -> None:
    from playwright.sync_api import expect

    artist = make_artist(name="The Aurora Ensemble")
    songs = [
        make_track(title=f"Aurora Borealis {n}", artist=artist, listens=900 - n) for n in range(5)
    ]
    _searchable(songs)

    def shot(name: str) -> None:
        page.screenshot(path=str(test_output_dir / f"listener-flow-{name}.png"), full_page=True)

    # 1. The first visit goes to the demographics form.
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/welcome\?next=%2F$"))
    page.locator("#id_age").fill("34")
    expect(page.locator("#age-output")).to_have_text("34")
    page.check('input[name="gender"][value="NB"]')
    page.select_option("#id_country", "BR")
    page.select_option("#id_occupation", "arts")
    shot("01-demographics")
    page.get_by_role("button", name="Start listening").click()
    expect(page).to_have_url(f"{live_server.url}/")
    counter = page.locator("#history-counter")
    expect(counter).to_have_text(f"0/{HISTORY_LIMIT}")

    # 2. Search and add three songs: the panel and its counter change in place.
    page.locator('input[name="q"]').fill("Aurora")
    expect(page.locator("#search-results")).to_contain_text("Results for")
    expect(_add_button(page, songs[0])).to_be_visible()
    for n, song in enumerate(songs[:3], start=1):
        _add_button(page, song).click()
        expect(counter).to_have_text(f"{n}/{HISTORY_LIMIT}")
    expect(page.locator("#history-panel .history-item")).to_have_count(3)
    shot("02-three-added")

    # 3. Remove the second; the first song's Remove stays disabled.
    panel = page.locator("#history-panel")
    panel.locator(f'.history-item[data-track-id="{songs[1].pk}"] button').click()
    expect(counter).to_have_text(f"2/{HISTORY_LIMIT}")
    expect(panel.locator(".history-item").first.locator("button")).to_be_disabled()
    expect(panel).not_to_contain_text("Aurora Borealis 1")
    shot("03-one-removed")

    # 4. 45 songs (set up through the services): the warning banner.
    listener = Listener.objects.get()
    fillers = make_tracks(HISTORY_LIMIT)
    for track in fillers[:43]:
        history_add(listener=listener, track_id=track.pk)
    page.reload()
    expect(counter).to_have_text(f"45/{HISTORY_LIMIT}")
    expect(page.locator("#history-banner")).to_have_text("5 slots remaining in your history.")
    shot("04-forty-five")

    # 5. 50 songs: the hard stop, and every Add button disabled.
    for track in fillers[43:48]:
        history_add(listener=listener, track_id=track.pk)
    page.reload()
    expect(counter).to_have_text(f"50/{HISTORY_LIMIT}")
    expect(page.locator("#history-banner")).to_have_text(
        "Maximum limit reached. Please remove songs to continue."
    )
    page.locator('input[name="q"]').fill("Aurora")
    expect(page.locator("#search-results")).to_contain_text("Results for")
    expect(_add_button(page, songs[4])).to_be_disabled()
    expect(_add_button(page, songs[3])).to_be_disabled()
    shot("05-fifty")


def _sign_in(page: Any, live_server: Any) -> Listener:
    page.goto(f"{live_server.url}/welcome")
    page.check('input[name="gender"][value="F"]')
    page.select_option("#id_country", "DE")
    page.select_option("#id_occupation", "student")
    page.get_by_role("button", name="Start listening").click()
    page.wait_for_url(f"{live_server.url}/")
    return Listener.objects.get()


def test_remove_swaps_the_panel_in_place_and_the_profile_works(
    page: Any, live_server: Any, test_output_dir: Path
) -> None:
    from playwright.sync_api import expect

    listener = _sign_in(page, live_server)
    tracks = make_tracks(3)
    for track in tracks:
        history_add(listener=listener, track_id=track.pk)
    page.reload()
    counter = page.locator("#history-counter")
    expect(counter).to_have_text(f"3/{HISTORY_LIMIT}")
    page.evaluate("window.__sameDocument = true")

    page.locator(f'.history-item[data-track-id="{tracks[2].pk}"] button').click()

    expect(counter).to_have_text(f"2/{HISTORY_LIMIT}")
    expect(page.locator("#history-message")).to_have_text("Removed from your history.")
    assert page.evaluate("window.__sameDocument") is True  # swapped by htmx, not reloaded
    page.screenshot(path=str(test_output_dir / "listener-panel-removed.png"), full_page=True)

    page.goto(f"{live_server.url}/profile")
    page.get_by_role("button", name="Create an API token").click()
    expect(page.locator("#api-token-value")).to_contain_text("mr_")
    page.screenshot(path=str(test_output_dir / "listener-profile-token.png"), full_page=True)
    page.get_by_role("link", name="Delete my profile").click()
    page.get_by_role("button", name="Yes, delete everything").click()
    expect(page).to_have_url(re.compile(r"/welcome$"))
    assert not Listener.objects.exists()
