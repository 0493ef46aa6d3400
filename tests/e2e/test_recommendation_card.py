"""Browser: after adding songs, the card above the results recommends one with a percentage and
a reason, and adding it from the card works.

Screenshots go to test-output/ (``test_output_dir``); look at them after a run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from apps.accounts.models import Listener
from apps.history.models import HistoryEntry
from apps.recommend.training import model_train
from tests.conftest import login_listener
from tests.factories import make_listener
from tests.recommend.fixtures import PlantedCatalog

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _log_in(page: Any, live_server: Any, listener: Listener) -> None:
    """Give the browser the listener's session cookie (as the welcome form would)."""
    from django.conf import settings
    from django.test import Client

    client = login_listener(Client(), listener)
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session_key, "url": live_server.url}]
    )


def test_card_recommends_and_adds(
    page: Any,
    live_server: Any,
    test_output_dir: Path,
    planted_catalog: PlantedCatalog,
    genre_fans: list[Listener],
) -> None:
    from playwright.sync_api import expect

    from apps.catalog.services import track_search_index_refresh

    all_tracks = [t for tracks in planted_catalog.tracks_by_genre for t in tracks]
    track_search_index_refresh(track_ids=[t.pk for t in all_tracks])
    assert model_train().version is not None
    listener = make_listener(age=25, gender="M", country="GB")
    _log_in(page, live_server, listener)
    genre_one = {t.pk for t in planted_catalog.tracks_by_genre[1]}

    page.goto(f"{live_server.url}/")
    page.locator('input[name="q"]').fill("Song 1-")
    results = page.locator("#search-results")
    expect(results).to_contain_text("Song 1-")
    counter = page.locator("#history-counter")
    for n, song in enumerate(planted_catalog.tracks_by_genre[1][:3], start=1):
        form = results.locator(".track-list form").filter(
            has=page.locator(f'input[name="track_id"][value="{song.pk}"]')
        )
        form.locator("button").click()
        expect(counter).to_have_text(f"{n}/50")

    card = page.locator("#recommendation-card")
    expect(card.locator("[data-testid=match]")).to_contain_text("% match")
    expect(card.locator("[data-testid=reason]")).not_to_be_empty()
    page.screenshot(path=str(test_output_dir / "recommendation-card.png"), full_page=True)
    recommended_id = int(card.locator('input[name="track_id"]').get_attribute("value") or 0)
    assert recommended_id in genre_one  # three songs of genre 1 in: genre 1 comes next

    card.get_by_role("button", name="Add").click()
    expect(counter).to_have_text("4/50")
    entry = HistoryEntry.objects.get(listener=listener, track_id=recommended_id)
    assert entry.was_recommended
    expect(card.locator('input[name="track_id"]')).not_to_have_value(str(recommended_id))
    page.screenshot(path=str(test_output_dir / "recommendation-card-after-add.png"), full_page=True)


def test_for_you_page_and_more_like_this(
    page: Any,
    live_server: Any,
    test_output_dir: Path,
    planted_catalog: PlantedCatalog,
    genre_fans: list[Listener],
) -> None:
    from playwright.sync_api import expect

    from tests.recommend.fixtures import give_history

    assert model_train().version is not None
    listener = make_listener(age=41, gender="F", country="FR")
    give_history(listener, planted_catalog.tracks_by_genre[2][:4])
    _log_in(page, live_server, listener)

    page.goto(f"{live_server.url}/recommendations")
    items = page.locator("ol.track-list > li")
    expect(items).to_have_count(20)
    expect(items.first.locator(".match")).to_contain_text("% match")
    page.screenshot(path=str(test_output_dir / "recommendations-page.png"), full_page=True)

    items.first.locator("a").first.click()
    expect(page.locator("#similar-heading")).to_have_text("More like this")
    similar = page.locator(".more-like-this ol.track-list > li")
    expect(similar.first).to_be_visible()
    genre_two = {t.pk for t in planted_catalog.tracks_by_genre[2]}
    hrefs = similar.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    similar_ids = [int(href.rstrip("/").rsplit("/", 1)[-1]) for href in hrefs]
    assert sum(track_id in genre_two for track_id in similar_ids) >= len(similar_ids) // 2
    page.screenshot(path=str(test_output_dir / "track-more-like-this.png"), full_page=True)
