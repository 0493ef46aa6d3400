"""Our predictors are picked up as evaluation specs when their modules exist."""

from __future__ import annotations

import importlib.util

import numpy as np

from apps.recommend.engine.base import Predictor
from apps.recommend.engine.dataset import Context, Dataset
from apps.recommend.engine.evaluation.ours import OUR_PREDICTORS, our_specs
from apps.recommend.engine.itemitem import ItemItemPredictor


def test_specs_follow_the_modules_that_exist() -> None:
    present = {
        name
        for name, module, _ in OUR_PREDICTORS
        if importlib.util.find_spec(f"apps.recommend.engine.{module}") is not None
    }
    specs = our_specs()
    assert {s.name for s in specs} == present
    assert all(s.group == "ours" for s in specs)


def test_cheap_predictors_build_fit_and_score(planted: Dataset) -> None:
    for spec in our_specs():
        if spec.name not in ("our-popularity", "our-demographic", "our-cooccurrence"):
            continue  # the neural model and the ensemble train for seconds: the full run does
        predictor = spec.factory({}, 0)
        assert isinstance(predictor, Predictor)
        predictor.fit(planted)
        answer = predictor.score(Context(history=np.array([0]), gender="m", age=21.0))
        assert answer.scores.shape == (planted.n_tracks,)


def test_what_our_predictors_chose_reaches_the_results(planted: Dataset) -> None:
    from apps.recommend.engine.evaluation.runner import Evaluation, Fitted, _result, _self_chosen

    spec = next(s for s in our_specs() if s.name == "our-itemitem")
    predictor = spec.factory({}, 0).fit(planted)
    chosen = _self_chosen(predictor)
    assert isinstance(predictor, ItemItemPredictor)
    assert chosen == {"weighting": predictor.chosen_weighting, "lam": predictor.chosen_lam}

    fitted = Fitted(predictor, {}, 0.1, float("nan"))
    result = _result("strong", "full", spec, 0, fitted, Evaluation(metrics={}, reliability=[]))
    assert result.params == chosen
