"""Fixtures: a small catalog with a planted taste structure, and listeners who follow it.

Registered for the whole suite in tests/conftest.py (the browser tests use them too).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from apps.accounts.models import Listener
from apps.catalog.models import Genre, Track
from apps.history.models import HistoryEntry
from tests.factories import make_artist, make_genre, make_listener, make_track

N_GENRES = 3
TRACKS_PER_GENRE = 30
ARTISTS_PER_GENRE = 6


@dataclass
class PlantedCatalog:
    genres: list[Genre]
    tracks_by_genre: list[list[Track]]


@pytest.fixture
def planted_catalog(db: None) -> PlantedCatalog:
    """Three genres of 30 tracks each; each genre has its own 6 artists."""
    genres = [make_genre(title=f"Genre {g}") for g in range(N_GENRES)]
    tracks_by_genre: list[list[Track]] = []
    for g, genre in enumerate(genres):
        artists = [make_artist(name=f"Artist {g}-{a}") for a in range(ARTISTS_PER_GENRE)]
        tracks = [
            make_track(
                title=f"Song {g}-{i}",
                artist=artists[i % ARTISTS_PER_GENRE],
                genre_top=genre,
                listens=1000 - i,
            )
            for i in range(TRACKS_PER_GENRE)
        ]
        tracks_by_genre.append(tracks)
    return PlantedCatalog(genres=genres, tracks_by_genre=tracks_by_genre)


def give_history(listener: Listener, tracks: list[Track]) -> None:
    HistoryEntry.objects.bulk_create(
        HistoryEntry(listener=listener, track=track, position=i) for i, track in enumerate(tracks)
    )


@pytest.fixture
def genre_fans(planted_catalog: PlantedCatalog) -> list[Listener]:
    """60 listeners, each a fan of one genre, with 15 of its tracks (900 interactions)."""
    import random

    rng = random.Random(7)
    fans = []
    for n in range(60):
        genre = n % N_GENRES
        listener = make_listener(age=20 + n % 40, gender=["F", "M"][n % 2])
        give_history(listener, rng.sample(planted_catalog.tracks_by_genre[genre], 15))
        fans.append(listener)
    return fans
