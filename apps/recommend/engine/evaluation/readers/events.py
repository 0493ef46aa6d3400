"""Our own event store as an evaluation dataset, fed as plain rows by the management command."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from apps.recommend.engine.evaluation.readers.common import (
    InteractionTuple,
    ItemRow,
    LoadedDataset,
    UserRow,
    build_dataset,
    normalise_gender,
    warn_if_small,
)

#: Name of the dataset that comes from our own event store (fed by the management command).
EVENTS_DATASET = "events"


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _epoch(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


def read_event_rows(
    events: Iterable[Sequence[Any]],
    listeners: Iterable[Mapping[str, Any]] = (),
    tracks: Iterable[Mapping[str, Any]] = (),
    name: str = EVENTS_DATASET,
) -> LoadedDataset:
    """Build a dataset from our own event store, fed as plain rows.

    ``events``: ``(listener_id, track_id, weight, timestamp)`` per row; timestamp is a datetime
    or epoch seconds (``None`` = unknown); rows with weight <= 0 (removes, skips) are dropped.
    ``listeners``: mappings with ``listener_id`` and any of ``age, gender, country, occupation``.
    ``tracks``: mappings with ``track_id`` and any of ``title, artist, album, genres, tags, year,
    popularity`` (``genres``/``tags`` as lists).
    """
    interactions: list[InteractionTuple] = []
    for row in events:
        listener_id, track_id, weight, stamp = row
        w = float(weight)
        if w > 0:
            interactions.append((_text(listener_id), _text(track_id), w, _epoch(stamp)))
    users = [
        UserRow(
            user_id=_text(r["listener_id"]),
            age=float(r["age"]) if r.get("age") is not None else math.nan,
            gender=normalise_gender(_text(r.get("gender"))),
            country=_text(r.get("country")).upper(),
            occupation=_text(r.get("occupation")).lower(),
        )
        for r in listeners
    ]
    items = [
        ItemRow(
            item_id=_text(r["track_id"]),
            title=_text(r.get("title")),
            artist=_text(r.get("artist")),
            album=_text(r.get("album")),
            genres=[_text(g) for g in r.get("genres") or []],
            tags=[_text(t) for t in r.get("tags") or []],
            year=int(r.get("year") or 0),
            popularity=float(r.get("popularity") or 0.0),
        )
        for r in tracks
    ]
    dataset, genres, titles = build_dataset(interactions, users, items)
    loaded = LoadedDataset(name=name, dataset=dataset, genre_names=genres, titles=titles)
    warn_if_small(loaded)
    return loaded
