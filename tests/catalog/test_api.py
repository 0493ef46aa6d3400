"""The public catalog API: tracks, genres, artists; no listener needed."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from apps.catalog.models import Artist
from apps.catalog.services import ImportReport
from tests.factories import make_artist, make_track

pytestmark = pytest.mark.django_db


def test_track_search(client: Client, catalog: ImportReport) -> None:
    response = client.get(reverse("api-tracks"), {"q": "freeway"})
    assert response.status_code == 200
    body = response.json()
    assert body["page"] == 1 and body["next"] is None and body["previous"] is None
    [track] = body["results"]
    assert track["id"] == 10
    assert track["title"] == "Freeway"
    assert track["artist"]["name"] == "Lorenzo Quintavalle"
    assert track["album"]["title"] == "Constant Hitmaker"
    assert track["genre_top"] == {"id": 10, "title": "Pop"}
    assert track["duration"] == 161
    assert track["url"] == "/api/tracks/10/"


def test_without_q_lists_popular_tracks(client: Client, catalog: ImportReport) -> None:
    ids = [t["id"] for t in client.get(reverse("api-tracks")).json()["results"]]
    assert ids[:3] == [10, 26, 2]
    assert len(ids) == 7


def test_genre_filter(client: Client, catalog: ImportReport) -> None:
    body = client.get(reverse("api-tracks"), {"genre": 12}).json()
    assert {t["id"] for t in body["results"]} == {20, 26}


def test_pages(client: Client, db: None) -> None:
    artist = make_artist(name="Paging Band")
    for n in range(25):
        make_track(title=f"Page song {n}", artist=artist, listens=100 - n)
    first = client.get(reverse("api-tracks")).json()
    assert len(first["results"]) == 20 and first["next"].endswith("page=2")
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 5 and second["next"] is None
    assert second["previous"].endswith("page=1")


def test_bad_parameters_use_the_error_shape(client: Client, db: None) -> None:
    response = client.get(reverse("api-tracks"), {"page": "zero", "genre": "-3"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == 400 and error["code"] == "invalid"
    assert set(error["fields"]) == {"page", "genre"}


def test_hostile_query_is_200(client: Client, catalog: ImportReport) -> None:
    for query in ["' OR 1=1 --", "a" * 1000, 'NEAR("x" *', "🎵"]:
        assert client.get(reverse("api-tracks"), {"q": query}).status_code == 200


def test_track_detail(client: Client, catalog: ImportReport) -> None:
    body = client.get(reverse("api-track-detail", args=[10])).json()
    assert body["audio_features"]["tempo"] == pytest.approx(120.0)
    assert body["genres"] == [{"id": 10, "title": "Pop"}]
    assert body["tags"] == []
    nameless = client.get(reverse("api-track-detail", args=[46])).json()
    assert nameless["album"] is None
    assert nameless["audio_features"]["energy"] is None


def test_unknown_track_is_a_404_in_the_error_shape(client: Client, db: None) -> None:
    response = client.get(reverse("api-track-detail", args=[123456789]))
    assert response.status_code == 404
    assert response.json()["error"]["status"] == 404


def test_genre_tree(client: Client, catalog: ImportReport) -> None:
    tree = client.get(reverse("api-genres")).json()
    tops = {node["title"]: node for node in tree}
    assert set(tops) == {"Experimental", "Hip-Hop", "Pop", "Rock"}
    assert [child["title"] for child in tops["Rock"]["children"]] == ["Punk"]
    assert tops["Experimental"]["children"][0]["title"] == "Avant-Garde"
    assert tops["Rock"]["children"][0]["children"] == []


def test_artist_detail(client: Client, catalog: ImportReport) -> None:
    awol = Artist.objects.get(fma_id=1)
    body = client.get(reverse("api-artist-detail", args=[awol.id])).json()
    assert body["name"] == "AWOL" and body["fma_id"] == 1
    assert body["track_count"] == 2
    assert [t["title"] for t in body["top_tracks"]] == ["Food", "Electric Ave"]
    assert client.get(reverse("api-artist-detail", args=[987654])).status_code == 404


def test_catalog_endpoints_are_in_the_schema(client: Client, db: None) -> None:
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()
    paths = ["/api/tracks/", "/api/tracks/{track_id}/", "/api/genres/", "/api/artists/{artist_id}/"]
    for path in paths:
        assert path in schema["paths"], path
    assert "GenreNode" in schema["components"]["schemas"]
