"""Browser: type a misspelled artist name in the search bar and see the right track appear.

Screenshots go to test-output/ (``test_output_dir``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from apps.catalog.services import catalog_import_fma

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FMA_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "fma"


def _become_listener(page: Any, base_url: str) -> None:
    """The first visit asks for demographics (the listener gate); answer it like a person."""
    from playwright.sync_api import expect

    page.goto(f"{base_url}/")
    expect(page).to_have_url(re.compile(r"/welcome"))
    page.locator("#id_age").fill("41")
    page.check('input[name="gender"][value="F"]')
    page.select_option("#id_country", "FR")
    page.select_option("#id_occupation", "arts")
    page.get_by_role("button", name="Start listening").click()
    expect(page).to_have_url(f"{base_url}/")


def test_misspelled_artist_finds_the_track_as_you_type(
    page: Any, live_server: Any, test_output_dir: Path
) -> None:
    from playwright.sync_api import expect

    catalog_import_fma(path=FMA_FIXTURES)
    _become_listener(page, live_server.url)

    results = page.locator("#search-results")
    expect(results).to_contain_text("Popular on FMA")
    # "Lorenzo Quintavalle" typed with two mistakes, key by key like a person.
    page.locator("#search-input").press_sequentially("Lorenso Quintavale", delay=20)
    expect(results).to_contain_text("Results for “Lorenso Quintavale”")
    card = results.locator(".track-card").first
    expect(card).to_contain_text("Freeway")
    expect(card).to_contain_text("Lorenzo Quintavalle")
    expect(results.locator(".track-card")).to_have_count(1)
    # htmx swapped the results in place: still the same page, no navigation.
    expect(page).to_have_url(f"{live_server.url}/")
    page.screenshot(path=str(test_output_dir / "search-misspelled-artist.png"), full_page=True)

    card.get_by_role("link", name="Freeway").click()
    expect(page.locator("h1")).to_have_text("Freeway")
    expect(page.locator("#audio-features")).to_contain_text("Danceability")
    page.screenshot(path=str(test_output_dir / "track-page.png"), full_page=True)


def test_search_works_without_javascript(
    browser: Any, live_server: Any, test_output_dir: Path
) -> None:
    from playwright.sync_api import expect

    catalog_import_fma(path=FMA_FIXTURES)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/")
        if "/welcome" in page.url:  # the gate's form is a plain POST form as well
            page.locator("#id_age").fill("41")
            page.check('input[name="gender"][value="F"]')
            page.select_option("#id_country", "FR")
            page.select_option("#id_occupation", "arts")
            page.get_by_role("button", name="Start listening").click()
        page.locator("#search-input").fill("creme brulee")
        page.get_by_role("button", name="Search", exact=True).click()
        expect(page).to_have_url(re.compile(r"\?q=creme\+brulee"))
        expect(page.locator("#search-results")).to_contain_text("Crème brûlée")
        page.screenshot(path=str(test_output_dir / "search-no-javascript.png"), full_page=True)
    finally:
        context.close()
