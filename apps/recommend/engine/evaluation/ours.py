"""Our own predictors (``apps.recommend.engine``) as evaluation specs.

Imported lazily and only when their module exists, so the harness runs while they are being
built; each is evaluated with its own defaults (their authors tune them; we never tune on test
listeners). ``seed`` goes to the ones that are random.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging
from collections.abc import Callable
from typing import Any

from apps.recommend.engine.base import Predictor
from apps.recommend.engine.evaluation.runner import PredictorSpec

logger = logging.getLogger(__name__)

ENGINE = "apps.recommend.engine"


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(f"{ENGINE}.{module}") is not None
    except ImportError:
        return False


def _load(module: str, attribute: str) -> Any:
    return getattr(importlib.import_module(f"{ENGINE}.{module}"), attribute)


def _popularity(params: dict[str, Any], seed: int) -> Predictor:
    predictor: Predictor = _load("popularity", "PopularityPredictor")(**params)
    return predictor


def _demographic(params: dict[str, Any], seed: int) -> Predictor:
    predictor: Predictor = _load("demographic", "DemographicPredictor")(**params)
    return predictor


def _model(params: dict[str, Any], seed: int) -> Predictor:
    config = _load("model", "HybridConfig")(seed=seed, **params)
    predictor: Predictor = _load("model", "HybridPredictor")(config=config)
    return predictor


def _predictor_class(module_name: str, preferred: str) -> Any:
    """``preferred`` if the module has it, else its one class with ``fit`` and ``score``."""
    module = importlib.import_module(f"{ENGINE}.{module_name}")
    if hasattr(module, preferred):
        return getattr(module, preferred)
    found = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and obj.__module__ == module.__name__
        and callable(getattr(obj, "fit", None))
        and callable(getattr(obj, "score", None))
    ]
    if len(found) != 1:
        raise ValueError(
            f"{module.__name__}: expected {preferred} or exactly one predictor class, "
            f"found {[c.__name__ for c in found]}"
        )
    return found[0]


def _itemitem(params: dict[str, Any], seed: int) -> Predictor:
    predictor: Predictor = _load("itemitem", "ItemItemPredictor")(seed=seed, **params)
    return predictor


def _cooccurrence(params: dict[str, Any], seed: int) -> Predictor:
    predictor: Predictor = _load("cooccurrence", "CoOccurrencePredictor")(**params)
    return predictor


def _ensemble(params: dict[str, Any], seed: int) -> Predictor:
    """The ensemble as the website serves it (``bundle.EngineBundle``), told the task.

    Every protocol here hides *random* items of a listener, so the blend is tuned on random
    held-out items; the website tunes it on each listener's latest items (the next song).
    """
    params = {"holdout": "random", **params}
    predictor: Predictor = _load("bundle", "build_default_ensemble")(seed=seed, **params)
    return predictor


#: (spec name, engine module, factory). Names differ from the baselines' ("popularity").
OUR_PREDICTORS: tuple[tuple[str, str, Callable[[dict[str, Any], int], Predictor]], ...] = (
    ("our-popularity", "popularity", _popularity),
    ("our-demographic", "demographic", _demographic),
    ("our-cooccurrence", "cooccurrence", _cooccurrence),
    ("our-model", "model", _model),
    ("our-itemitem", "itemitem", _itemitem),
    ("ensemble", "bundle", _ensemble),
)


def our_specs() -> list[PredictorSpec]:
    """Specs for every one of our predictors whose module exists right now."""
    specs = []
    for name, module, factory in OUR_PREDICTORS:
        if _available(module):
            specs.append(PredictorSpec(name, factory, group="ours"))
        else:
            logger.info("%s: %s.%s not there yet, skipped", name, ENGINE, module)
    return specs
