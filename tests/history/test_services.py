"""History rules: the 50-song limit, duplicates, the first song, versions, outbox rows."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from apps.accounts.models import Listener
from apps.history.models import HISTORY_LIMIT, EventType, HistoryEntry, OutboxEvent
from apps.history.services import (
    AlreadyInHistory,
    FirstSongLocked,
    HistoryFull,
    NotInHistory,
    TrackNotFound,
    event_record,
    history_add,
    history_remove,
)
from apps.recommend.cache import listener_prefix
from tests.factories import make_listener, make_track, make_tracks

pytestmark = pytest.mark.django_db


def _track_ids(listener: Listener) -> list[int]:
    return list(
        HistoryEntry.objects.filter(listener=listener)
        .order_by("position")
        .values_list("track_id", flat=True)
    )


def test_add_keeps_the_order_added_and_writes_one_outbox_event_each(listener: Listener) -> None:
    tracks = make_tracks(3)

    for track in tracks:
        history_add(listener=listener, track_id=track.pk)

    assert _track_ids(listener) == [t.pk for t in tracks]
    adds = OutboxEvent.objects.filter(listener=listener, payload__type=EventType.ADD)
    assert sorted(row.payload["track"] for row in adds) == sorted(t.pk for t in tracks)


def test_add_the_same_track_twice_is_refused_without_a_duplicate(listener: Listener) -> None:
    track = make_track()
    history_add(listener=listener, track_id=track.pk)

    with pytest.raises(AlreadyInHistory, match="already in your history"):
        history_add(listener=listener, track_id=track.pk)

    assert _track_ids(listener) == [track.pk]
    assert OutboxEvent.objects.filter(listener=listener, payload__type="add").count() == 1


def test_add_an_unknown_track_is_refused(listener: Listener) -> None:
    with pytest.raises(TrackNotFound):
        history_add(listener=listener, track_id=424242)
    assert not HistoryEntry.objects.exists()


def test_the_limit_is_fifty_songs(listener: Listener) -> None:
    tracks = make_tracks(HISTORY_LIMIT + 1)
    for track in tracks[:HISTORY_LIMIT]:
        history_add(listener=listener, track_id=track.pk)

    with pytest.raises(HistoryFull, match="Maximum limit reached"):
        history_add(listener=listener, track_id=tracks[-1].pk)

    assert HistoryEntry.objects.filter(listener=listener).count() == HISTORY_LIMIT == 50


def test_remove_then_add_again_works_at_the_limit(listener: Listener) -> None:
    tracks = make_tracks(HISTORY_LIMIT + 1)
    for track in tracks[:HISTORY_LIMIT]:
        history_add(listener=listener, track_id=track.pk)

    history_remove(listener=listener, track_id=tracks[10].pk)
    history_add(listener=listener, track_id=tracks[-1].pk)

    ids = _track_ids(listener)
    assert len(ids) == HISTORY_LIMIT
    assert ids[-1] == tracks[-1].pk
    assert tracks[10].pk not in ids


def test_the_first_song_cannot_be_removed(listener: Listener) -> None:
    first, second = make_tracks(2)
    history_add(listener=listener, track_id=first.pk)
    history_add(listener=listener, track_id=second.pk)

    with pytest.raises(FirstSongLocked):
        history_remove(listener=listener, track_id=first.pk)
    history_remove(listener=listener, track_id=second.pk)

    assert _track_ids(listener) == [first.pk]


def test_remove_a_track_not_in_history(listener: Listener) -> None:
    with pytest.raises(NotInHistory):
        history_remove(listener=listener, track_id=make_track().pk)


def test_changes_bump_the_history_version_and_drop_cached_recommendations(
    listener: Listener, django_capture_on_commit_callbacks: pytest.FixtureRequest
) -> None:
    first, second = make_tracks(2)
    cache.set(listener_prefix(listener.pk), "cached")
    before = listener.history_version

    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        history_add(listener=listener, track_id=first.pk)
    assert cache.get(listener_prefix(listener.pk)) is None

    cache.set(listener_prefix(listener.pk), "cached")
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        history_add(listener=listener, track_id=second.pk)
        history_remove(listener=listener, track_id=second.pk)

    listener.refresh_from_db()
    assert listener.history_version == before + 3
    assert cache.get(listener_prefix(listener.pk)) is None


def test_a_refused_change_leaves_no_outbox_row_or_version_bump(listener: Listener) -> None:
    track = make_track()
    history_add(listener=listener, track_id=track.pk)
    listener.refresh_from_db()
    version, rows = listener.history_version, OutboxEvent.objects.count()

    with pytest.raises(AlreadyInHistory):
        history_add(listener=listener, track_id=track.pk)

    listener.refresh_from_db()
    assert (listener.history_version, OutboxEvent.objects.count()) == (version, rows)


def test_histories_are_per_listener(listener: Listener) -> None:
    other = make_listener()
    track = make_track()

    history_add(listener=listener, track_id=track.pk)
    history_add(listener=other, track_id=track.pk)  # the same track is fine for someone else

    assert _track_ids(listener) == _track_ids(other) == [track.pk]


def test_event_record_queues_play_like_skip(listener: Listener) -> None:
    track = make_track()

    for kind in ("play", "like", "skip"):
        event_record(listener=listener, type=kind, track_id=track.pk, was_recommended=True)

    types = sorted(row.payload["type"] for row in OutboxEvent.objects.filter(listener=listener))
    assert types == ["demographics", "like", "play", "skip"]
    with pytest.raises(ValueError, match="not a listening event"):
        event_record(listener=listener, type="add", track_id=track.pk)
