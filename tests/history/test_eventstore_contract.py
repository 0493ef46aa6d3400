"""The EventStore contract: every implementation (SQL, MongoDB) must pass these."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apps.history.eventstore import (
    Event,
    EventStore,
    Prediction,
    PredictionLogEntry,
    SqlEventStore,
    get_event_store,
    to_ms,
)

T0 = datetime(2025, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)


def _event(listener: int, minutes: int, **fields: object) -> Event:
    fields.setdefault("type", "add")
    fields.setdefault("track", 100 + minutes)
    return Event.new(listener=listener, timestamp=T0 + timedelta(minutes=minutes), **fields)


def test_ping_and_name(event_store: EventStore) -> None:
    event_store.ping()
    assert event_store.name in {"sql", "mongodb"}


def test_write_then_read_returns_the_same_event(event_store: EventStore) -> None:
    event = _event(
        7,
        0,
        was_recommended=True,
        recommendation_confidence=0.83,
        recommendation_id="log-1",
        details={"why": "test"},
    )

    assert event_store.write_events([event]) == 1

    page = event_store.events_for(7)
    assert page.events == [event]
    assert page.total == 1
    assert page.events[0].timestamp.tzinfo is not None


def test_writes_are_idempotent_by_event_id(event_store: EventStore) -> None:
    first, second = _event(1, 0), _event(1, 1)

    assert event_store.write_events([first, second]) == 2
    assert event_store.write_events([first, second, first]) == 0

    assert [e.event_id for e in event_store.iter_events()] == [first.event_id, second.event_id]


def test_events_for_is_per_listener_newest_first_and_paginated(event_store: EventStore) -> None:
    mine = [_event(1, minute) for minute in range(5)]
    theirs = [_event(2, minute) for minute in range(3)]
    event_store.write_events(mine + theirs)

    page1 = event_store.events_for(1, page=1, page_size=2)
    page3 = event_store.events_for(1, page=3, page_size=2)

    assert page1.total == 5
    assert [e.event_id for e in page1.events] == [mine[4].event_id, mine[3].event_id]
    assert page1.has_next
    assert [e.event_id for e in page3.events] == [mine[0].event_id]
    assert not page3.has_next
    assert all(e.listener == 1 for e in page1.events + page3.events)


def test_iter_events_since_and_types(event_store: EventStore) -> None:
    events = [
        _event(1, 0, type="add"),
        _event(1, 10, type="play"),
        _event(2, 20, type="skip"),
        _event(2, 30, type="demographics", track=None, details={"age": 30}),
    ]
    event_store.write_events(events)

    since = [e.event_id for e in event_store.iter_events(since=T0 + timedelta(minutes=10))]
    plays = list(event_store.iter_events(types=["play", "skip"]))

    assert since == [e.event_id for e in events[1:]]
    assert [e.type for e in plays] == ["play", "skip"]


def test_delete_listener_removes_events_and_predictions(event_store: EventStore) -> None:
    event_store.write_events([_event(1, 0), _event(1, 1), _event(2, 0)])
    event_store.write_prediction_log(
        PredictionLogEntry.new(
            listener=1, context={}, predictions=[Prediction(track=5, confidence=0.5)]
        )
    )

    assert event_store.delete_listener(1) == 3

    assert event_store.events_for(1).total == 0
    assert event_store.prediction_logs_for(1) == []
    assert event_store.events_for(2).total == 1


def test_prediction_log_roundtrip_and_selection(event_store: EventStore) -> None:
    log = PredictionLogEntry.new(
        listener=3,
        timestamp=T0,
        context={"history_size": 4, "recent_tracks": [1, 2], "demographics": {"age": 30}},
        predictions=[
            Prediction(track=10, confidence=0.9, predictor_weights={"model": 0.7}, was_shown=True),
            Prediction(track=11, confidence=0.4, predictor_weights={"popularity": 1.0}),
        ],
    )

    assert event_store.write_prediction_log(log) == log.log_id
    event_store.write_prediction_log(log)  # idempotent
    assert event_store.mark_prediction_selected(log_id=log.log_id, track=11) is True
    assert event_store.mark_prediction_selected(log_id=log.log_id, track=99) is False
    assert event_store.mark_prediction_selected(log_id="no-such-log", track=11) is False

    [stored] = event_store.prediction_logs_for(3)
    assert stored.context == log.context
    assert [p.was_selected for p in stored.predictions] == [False, True]
    assert stored.predictions[0].predictor_weights == {"model": 0.7}


def test_iter_prediction_logs_since_oldest_first(event_store: EventStore) -> None:
    logs = [
        PredictionLogEntry.new(
            listener=listener,
            timestamp=T0 + timedelta(minutes=minutes),
            context={},
            predictions=[Prediction(track=minutes, confidence=0.5, was_shown=True)],
        )
        for listener, minutes in [(1, 30), (2, 10), (1, 20)]
    ]
    for log in logs:
        event_store.write_prediction_log(log)
    assert [log.predictions[0].track for log in event_store.iter_prediction_logs()] == [10, 20, 30]
    since = T0 + timedelta(minutes=15)
    assert [log.listener for log in event_store.iter_prediction_logs(since=since)] == [1, 1]


def test_export_listener_has_only_their_records(event_store: EventStore) -> None:
    mine = _event(1, 0)
    event_store.write_events([mine, _event(2, 0)])
    event_store.write_prediction_log(PredictionLogEntry.new(listener=1, context={}, predictions=[]))

    exported = event_store.export_listener(1)

    assert [e["event_id"] for e in exported["events"]] == [mine.event_id]
    assert exported["events"][0]["timestamp"] == mine.timestamp.isoformat()
    assert len(exported["predictions"]) == 1


def test_ensure_indexes_is_idempotent(event_store: EventStore) -> None:
    event_store.ensure_indexes()
    event_store.ensure_indexes()


def test_timestamps_are_kept_to_the_millisecond() -> None:
    assert to_ms(datetime(2025, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)).microsecond == 123000


def test_default_store_is_sql(settings: pytest.FixtureRequest) -> None:
    settings.MONGODB_URL = ""  # type: ignore[attr-defined]
    assert isinstance(get_event_store(), SqlEventStore)
