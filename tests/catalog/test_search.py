"""Search, on whichever engine the run uses: SQLite (FTS5) by default, PostgreSQL in the
services pass (DATABASE_URL). The same expectations hold on both."""

from __future__ import annotations

import pytest
from django.db import connection

from apps.catalog.selectors import (
    MAX_QUERY_CHARS,
    popular_tracks,
    query_tokens,
    search_terms,
    track_search,
    track_search_ids,
)
from apps.catalog.services import ImportReport, track_search_index_refresh
from tests.factories import make_artist, make_track

pytestmark = pytest.mark.django_db

HOSTILE_QUERIES = [
    "a" * 1000,
    "x" * 999 + " freeway",
    "'; DROP TABLE catalog_track; --",
    "' OR 1=1 --",
    '"unbalanced',
    "food*",
    "NEAR(food freeway)",
    "title:food",
    "AND OR NOT",
    "^food",
    "%_\\",
    "(((",
    "🎵🎶 🎸",
    "Crème brûlée ☕",
    "\x00null byte",
    "   ",
    "ΑΒΓ ελληνικά",
    "日本語の曲",
]


def titles(query: str, **kwargs: object) -> list[str]:
    return [track.title for track in track_search(query, **kwargs)]  # type: ignore[arg-type]


def test_exact_title(catalog: ImportReport) -> None:
    assert titles("Freeway")[0] == "Freeway"
    assert titles("electric ave") == ["Electric Ave"]


def test_prefix_as_you_type(catalog: ImportReport) -> None:
    assert titles("fre") == ["Freeway"]
    assert titles("electric a") == ["Electric Ave"]  # a trailing letter waits for the next


def test_artist_and_album_and_tag_match(catalog: ImportReport) -> None:
    assert set(titles("AWOL")) == {"Food", "Electric Ave"}
    assert titles("constant hitmaker") == ["Freeway"]
    assert "Crème brûlée" in titles("chanson")


def test_misspelled_artist_finds_the_right_track(catalog: ImportReport) -> None:
    assert titles("Lorenso Quintavale") == ["Freeway"]
    assert titles("quintavalle") == ["Freeway"]
    assert titles("Melody Cafe")[0] == "Crème brûlée"


def test_accents_do_not_matter(catalog: ImportReport) -> None:
    assert titles("creme brulee") == ["Crème brûlée"]
    assert titles("CRÈME") == ["Crème brûlée"]
    assert titles("melodie") == ["Crème brûlée"]


def test_ranking_prefers_the_title_match(catalog: ImportReport) -> None:
    # "Midnight" is the title of a track with 12 listens and the artist name on a track with
    # 9,000: relevance (title > artist) comes before popularity.
    assert titles("midnight") == ["Midnight", "Sunrise Hymn"]


def test_popularity_breaks_ties(db: None) -> None:
    artist = make_artist(name="Tie Band")
    quiet = make_track(title="Blue Song", artist=artist, listens=5)
    loud = make_track(title="Blue Song", artist=artist, listens=500)
    track_search_index_refresh(track_ids=[quiet.id, loud.id])
    assert [t.id for t in track_search("blue song")] == [loud.id, quiet.id]


def test_short_queries_return_popular_tracks(catalog: ImportReport) -> None:
    popular = [t.title for t in popular_tracks(3)]
    assert popular == ["Freeway", "Sunrise Hymn", "Food"]
    assert titles("f", limit=3) == popular
    assert titles("", limit=3) == popular
    assert titles("  !! ", limit=3) == popular


def test_genre_filter_includes_sub_genres(catalog: ImportReport) -> None:
    # Genre 12 (Rock): Midnight is Punk (a Rock sub-genre), Sunrise Hymn is Rock.
    assert titles("midnight", genre_id=12) == ["Midnight", "Sunrise Hymn"]
    assert titles("midnight", genre_id=25) == ["Midnight"]
    assert titles("midnight", genre_id=21) == []


def test_limit_and_offset_page_through(catalog: ImportReport) -> None:
    first = track_search_ids("awol", limit=1)
    second = track_search_ids("awol", limit=1, offset=1)
    assert len(first) == len(second) == 1
    assert first != second


def test_no_match_is_empty(catalog: ImportReport) -> None:
    assert titles("zzzqqxx") == []


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_hostile_queries_are_harmless(catalog: ImportReport, query: str) -> None:
    results = track_search(query)
    assert isinstance(results, list)
    assert len(results) <= 10


def test_hostile_queries_keep_their_words(catalog: ImportReport) -> None:
    assert titles("food*") == ["Food"]
    assert titles('"food') == ["Food"]
    assert titles("NEAR(food") == []  # "near" is a word like any other; nothing has it


def test_tokens_are_bounded() -> None:
    tokens = query_tokens("word " * 500)
    assert len(tokens) <= 8
    assert all(len(t) <= 40 for t in query_tokens("x" * 1000))
    assert len("".join(query_tokens("y" * 5000))) <= MAX_QUERY_CHARS


def test_search_terms_prefix_only_the_last_word() -> None:
    assert search_terms(["kurt", "vil"]) == [("kurt", False), ("vil", True)]
    assert search_terms(["love", "s"]) == [("love", True)]
    assert search_terms(["x"]) == [("x", False)]


def test_engine_matches_the_database(catalog: ImportReport) -> None:
    """The index the engine reads is filled: the FTS5 table or the tsvector column."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT count(*) FROM catalog_track_fts WHERE catalog_track_fts MATCH 'food'"
            )
        else:
            cursor.execute(
                "SELECT count(*) FROM catalog_track"
                " WHERE search_vector @@ to_tsquery('simple', 'food')"
            )
        assert cursor.fetchone()[0] == 1
