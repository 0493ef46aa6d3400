"""PostgreSQL-only parts of search: weighted vectors, unaccent, the term list for typos."""

from __future__ import annotations

import pytest
from django.db import connection

from apps.catalog.models import Track
from apps.catalog.selectors import _PostgresSearch, track_search
from apps.catalog.services import ImportReport

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_extensions_are_enabled(catalog: ImportReport) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension")
        assert {"pg_trgm", "unaccent"} <= {row[0] for row in cursor.fetchall()}


def test_vector_weights_title_artist_album_tags(catalog: ImportReport) -> None:
    vector = str(Track.objects.values_list("search_vector", flat=True).get(id=2))
    assert "'food':1A" in vector
    assert "'awol':2B" in vector
    assert "'way':" in vector and "C" in vector.split("'way':")[1].split()[0]
    assert "'nj':" in vector  # a tag (weight D, printed without a letter)


def test_vectors_are_unaccented(catalog: ImportReport) -> None:
    vector = str(Track.objects.values_list("search_vector", flat=True).get(id=30))
    assert "'creme':1A" in vector and "'brulee':2A" in vector


def test_typo_correction_uses_the_term_list(catalog: ImportReport) -> None:
    corrected = _PostgresSearch().correct([("lorenso", False), ("quintavale", True)])
    assert corrected == [("lorenzo", False), ("quintavalle", True)]


def test_estimate_bounds_the_matches(catalog: ImportReport) -> None:
    tsquery, estimate = _PostgresSearch._prepare([("awol", True)])
    assert tsquery == "awol:*"
    assert estimate >= 2


def test_search_after_a_row_edit_needs_the_index_refresh(catalog: ImportReport) -> None:
    from apps.catalog.services import track_search_index_refresh

    Track.objects.filter(id=3).update(title="Brand New Title")
    assert [t.id for t in track_search("brand new")] == []
    track_search_index_refresh(track_ids=[3])
    assert [t.id for t in track_search("brand new")] == [3]
