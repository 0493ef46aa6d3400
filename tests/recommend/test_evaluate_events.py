"""`manage.py evaluate --dataset events` reads our own listeners."""

from __future__ import annotations

import pytest

from apps.accounts.models import Listener
from apps.history.selectors import evaluation_event_rows
from tests.recommend.fixtures import PlantedCatalog


@pytest.mark.django_db
def test_event_rows_cover_histories_listeners_and_tracks(
    planted_catalog: PlantedCatalog, genre_fans: list[Listener]
) -> None:
    events, listeners, tracks = evaluation_event_rows()
    assert len(events) == 60 * 15
    assert {row["listener_id"] for row in listeners} == {fan.id for fan in genre_fans}
    assert {row["track_id"] for row in tracks} == {track_id for _, track_id, _, _ in events}
    assert all(weight == 1.0 for _, _, weight, _ in events)
    assert all(row["genres"] for row in tracks)
