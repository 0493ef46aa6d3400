"""Online quality of each predictor, from what listeners did with shown recommendations.

A shown recommendation is credited to the predictor with the largest share of its score. The
hit rate (selected / shown) of each predictor, relative to the average, becomes a multiplier on
its blending weight: a predictor whose picks listeners keep ignoring is weighted down.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.utils import timezone

from apps.history.eventstore import get_event_store
from apps.recommend.models import PredictorQuality

QUALITY_WINDOW = timedelta(days=14)
MIN_SHOWN = 50  # below this a predictor keeps the neutral multiplier
MULTIPLIER_RANGE = (0.5, 1.5)


def predictor_quality_refresh() -> dict[str, float]:
    shown: Counter[str] = Counter()
    selected: Counter[str] = Counter()
    since = timezone.now() - QUALITY_WINDOW
    for log in get_event_store().iter_prediction_logs(since=since):
        for prediction in log.predictions:
            if not prediction.was_shown or not prediction.predictor_weights:
                continue
            weights = prediction.predictor_weights
            lead = max(weights, key=lambda name: weights[name])
            shown[lead] += 1
            selected[lead] += int(prediction.was_selected)
    total_shown = sum(shown.values())
    average = sum(selected.values()) / total_shown if total_shown else 0.0
    result: dict[str, float] = {}
    for name in shown:
        multiplier = 1.0
        if shown[name] >= MIN_SHOWN and average > 0:
            rate = selected[name] / shown[name]
            multiplier = min(max(rate / average, MULTIPLIER_RANGE[0]), MULTIPLIER_RANGE[1])
        PredictorQuality.objects.update_or_create(
            predictor=name,
            defaults={"quality": multiplier, "shown": shown[name], "selected": selected[name]},
        )
        result[name] = multiplier
    return result


def online_multipliers() -> dict[str, float]:
    return dict(PredictorQuality.objects.values_list("predictor", "quality"))
