"""The search page, its htmx results partial, and the track page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from apps.catalog.services import ImportReport
from tests.catalog.test_search import HOSTILE_QUERIES

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def test_search_page_has_the_form_and_popular_tracks(
    listener_client: Client, catalog: ImportReport
) -> None:
    response = listener_client.get(reverse("search"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'hx-trigger="input changed delay:300ms, search"' in html
    assert 'hx-sync="this:replace"' in html
    assert 'hx-indicator="#search-indicator"' in html
    assert '<form class="search-form" method="get" action="/"' in html  # works without JS
    assert "Popular on FMA" in html
    assert "{#" not in html and "{%" not in html  # no template comment leaks into the page
    assert 'id="history-panel"' in html  # the aside's history panel is on the page
    assert html.index("Freeway") < html.index("Food")  # most listened first


def test_plain_get_search_renders_the_whole_page(
    listener_client: Client, catalog: ImportReport
) -> None:
    response = listener_client.get(reverse("search"), {"q": "freeway"})
    html = response.content.decode()
    assert "<html" in html
    assert "Results for “freeway”" in html
    assert "Freeway" in html and "Electric Ave" not in html


def test_htmx_request_gets_only_the_results_partial(
    listener_client: Client, catalog: ImportReport
) -> None:
    response = listener_client.get(reverse("search-results"), {"q": "awol"}, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="search-results"')
    assert "Food" in html and "Electric Ave" in html
    assert response.headers["Vary"].count("HX-Request") == 1


def test_song_card_shows_metadata_and_the_add_form(
    listener_client: Client, catalog: ImportReport
) -> None:
    html = listener_client.get(
        reverse("search-results"), {"q": "food"}, headers=HTMX
    ).content.decode()
    assert "AWOL" in html and "AWOL - A Way Of Life" in html
    assert "2:48" in html  # 168 s
    assert "Hip-Hop" in html
    assert 'action="/history/add"' in html and 'hx-post="/history/add"' in html
    assert 'hx-target="#history-panel"' in html and 'hx-swap="outerHTML"' in html
    assert 'name="track_id" value="2"' in html
    assert "csrfmiddlewaretoken" in html
    assert reverse("track-detail", args=[2]) in html


def test_no_results_says_so(listener_client: Client, catalog: ImportReport) -> None:
    html = listener_client.get(reverse("search"), {"q": "zzzqqxx"}).content.decode()
    assert "No songs match" in html


def test_empty_catalog_says_how_to_import(listener_client: Client) -> None:
    html = listener_client.get(reverse("search")).content.decode()
    assert "catalog is empty" in html


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_hostile_queries_answer_200(
    listener_client: Client, catalog: ImportReport, query: str
) -> None:
    for headers in ({}, HTMX):
        response = listener_client.get(reverse("search-results"), {"q": query}, headers=headers)
        assert response.status_code == 200


# The results partial for a listener: session, listener (2); search ids, track rows with
# artist/album/genre joined (2 on SQLite; 3 on PostgreSQL, which first reads the unaccented
# query and its match estimate); history entries and ids (2); the recommendation card
# (prediction log read + savepoint/insert/release + its track rows: 5).
SEARCH_QUERIES = {"sqlite": 2, "postgresql": 3}


def results_partial_queries() -> int:
    from django.db import connection

    return 9 + SEARCH_QUERIES[connection.vendor]


def test_results_partial_query_count_is_pinned(
    listener_client: Client, catalog: ImportReport, django_assert_num_queries: Any
) -> None:
    listener_client.get(reverse("search-results"), {"q": "awol"}, headers=HTMX)  # warm caches
    with django_assert_num_queries(results_partial_queries()):
        response = listener_client.get(reverse("search-results"), {"q": "awol"}, headers=HTMX)
    assert response.status_code == 200


def test_results_query_count_does_not_grow_with_results(
    listener_client: Client, catalog: ImportReport
) -> None:
    """One result or two: the same number of queries (no N+1); the popular list needs fewer."""
    _count(listener_client, "food")  # the first request warms per-process caches
    counts = {query: _count(listener_client, query) for query in ("food", "awol", "midnight")}
    assert len(set(counts.values())) == 1, counts
    assert _count(listener_client, "") < counts["food"]


def _count(client: Client, query: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(reverse("search-results"), {"q": query}, headers=HTMX)
    return len(captured.captured_queries)


def test_track_page_shows_metadata_genres_and_features(
    listener_client: Client, catalog: ImportReport
) -> None:
    response = listener_client.get(reverse("track-detail", args=[10]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Freeway" in html and "Lorenzo Quintavalle" in html and "Constant Hitmaker" in html
    assert "Pop" in html
    assert 'id="audio-features"' in html and "Danceability" in html and "120 BPM" in html
    assert "More like this" in html


def test_track_page_without_features_says_so(
    listener_client: Client, catalog: ImportReport
) -> None:
    html = listener_client.get(reverse("track-detail", args=[20])).content.decode()
    assert "No audio features" in html
    assert "Punk" in html and "Rock" in html


def test_unknown_track_is_404(listener_client: Client, catalog: ImportReport) -> None:
    assert listener_client.get("/tracks/999999").status_code == 404


def test_search_is_get_only(listener_client: Client) -> None:
    assert listener_client.post(reverse("search")).status_code == 405
