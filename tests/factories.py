"""Small factory functions for tests: each makes a valid object with overridable fields."""

from __future__ import annotations

import itertools
from typing import Any

from apps.accounts.models import Listener
from apps.accounts.services import Demographics, listener_create
from apps.catalog.models import Album, Artist, Genre, Track

_ids = itertools.count(1)


def _next_id() -> int:
    return next(_ids) + 900_000  # away from the ids of fixture data


def make_genre(**fields: Any) -> Genre:
    genre_id = fields.pop("id", _next_id())
    fields.setdefault("title", f"Genre {genre_id}")
    return Genre.objects.create(id=genre_id, **fields)


def make_artist(**fields: Any) -> Artist:
    fields.setdefault("name", f"Artist {_next_id()}")
    return Artist.objects.create(**fields)


def make_album(**fields: Any) -> Album:
    fields.setdefault("title", f"Album {_next_id()}")
    if "artist" not in fields:
        fields["artist"] = make_artist()
    return Album.objects.create(**fields)


def make_track(**fields: Any) -> Track:
    track_id = fields.pop("id", _next_id())
    fields.setdefault("title", f"Song {track_id}")
    if "artist" not in fields:
        fields["artist"] = make_artist()
    return Track.objects.create(id=track_id, **fields)


def make_tracks(count: int, **fields: Any) -> list[Track]:
    artist = fields.pop("artist", None) or make_artist()
    return [make_track(artist=artist, **fields) for _ in range(count)]


DEFAULT_DEMOGRAPHICS = Demographics(age=29, gender="F", country="DE", occupation="technology")


def make_demographics(**fields: Any) -> Demographics:
    values = {**DEFAULT_DEMOGRAPHICS.as_dict(), **fields}
    return Demographics(**values)


def make_listener(*, demographics: bool = True, **fields: Any) -> Listener:
    """A listener; with completed demographics unless ``demographics=False``."""
    if not demographics:
        return Listener.objects.create()
    return listener_create(demographics=make_demographics(**fields))
