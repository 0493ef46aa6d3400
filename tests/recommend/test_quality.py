"""Online quality: predictors whose shown picks listeners ignore get weighted down."""

from __future__ import annotations

import pytest

from apps.history.eventstore import Prediction, PredictionLogEntry, get_event_store
from apps.recommend.models import PredictorQuality
from apps.recommend.quality import MIN_SHOWN, predictor_quality_refresh


def _log(lead: str, selected: bool) -> PredictionLogEntry:
    return PredictionLogEntry.new(
        listener=1,
        context={},
        predictions=[
            Prediction(
                track=1,
                confidence=0.5,
                predictor_weights={lead: 0.8, "other": 0.2},
                was_shown=True,
                was_selected=selected,
            )
        ],
    )


@pytest.mark.django_db
def test_hit_rates_become_bounded_multipliers() -> None:
    store = get_event_store()
    for i in range(MIN_SHOWN * 2):
        store.write_prediction_log(_log("itemitem", selected=i % 2 == 0))  # 50% taken
        store.write_prediction_log(_log("popularity", selected=i % 10 == 0))  # 10% taken
    result = predictor_quality_refresh()
    assert result["itemitem"] > 1.0 > result["popularity"]
    assert result["popularity"] >= 0.5 and result["itemitem"] <= 1.5
    stored = PredictorQuality.objects.get(predictor="popularity")
    assert stored.shown == MIN_SHOWN * 2
    assert stored.selected == MIN_SHOWN * 2 // 10


@pytest.mark.django_db
def test_too_little_evidence_stays_neutral() -> None:
    store = get_event_store()
    for _ in range(5):
        store.write_prediction_log(_log("model", selected=False))
    assert predictor_quality_refresh() == {"model": 1.0}
