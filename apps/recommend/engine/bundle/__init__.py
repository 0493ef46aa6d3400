"""The served engine: our predictors blended by confidence, with persistence.

:class:`EngineBundle` is itself a predictor (``fit``/``score``), so offline evaluation measures
exactly what the website serves. Per request it:

1. asks every predictor for a score vector over all tracks and a confidence for this listener;
2. centres each vector on its catalogue mean and scales it so its best track scores 1 (so
   scales are comparable and no heavy tail dominates), and blends them with weights
   ``confidence x quality``: ``quality`` is the weight tuned at fit time for the listener's
   history slice on held-out items (0 for a predictor that does not help there), and
   ``confidence`` is the predictor's confidence for this listener relative to its typical
   value on those items;
3. falls back to one predictor alone (the slice's most trusted, then model -> item-item ->
   co-occurrence -> demographic -> popularity) when none has weight, so the answer is never
   empty;
4. excludes the history, caps tracks per artist (at most 2 in any block of 10), and attaches a
   calibrated confidence (the observed hit rate of that blended score on held-out items), an
   explanation and each predictor's share.

The package re-exports the names callers use, so they import from
``apps.recommend.engine.bundle`` whichever module defines them:

- ``ensemble``: :class:`EngineBundle` (fit, serve), :func:`default_predictors`,
  :func:`build_default_ensemble`;
- ``tuning``: validation cases per history slice and the greedy per-slice blend search;
- ``calibration``: score -> hit-rate curves, fitted on the tuned cases and read when serving;
- ``ranking``: standardised scores, the fallback order, the artist cap, reasons,
  :class:`Recommendation`;
- ``persistence``: :func:`load_bundle`, ``FORMAT_VERSION``, :class:`BundleError`.

Modules import the constants they use, so a test that changes one patches it in the module
that reads it (e.g. ``persistence.FORMAT_VERSION``); setting it on this package changes
nothing.
"""

from __future__ import annotations

from apps.recommend.engine.bundle.calibration import (
    CALIBRATION_BINS,
    CALIBRATION_PRIOR,
    CALIBRATION_RANKS,
    CALIBRATION_SLICES,
)
from apps.recommend.engine.bundle.ensemble import (
    REFIT_MIN_HELDOUT_SHARE,
    EngineBundle,
    build_default_ensemble,
    default_predictors,
)
from apps.recommend.engine.bundle.persistence import FORMAT_VERSION, BundleError, load_bundle
from apps.recommend.engine.bundle.ranking import (
    ARTIST_BLOCK,
    ARTIST_CAP,
    FALLBACK_ORDER,
    REASON_DEMOGRAPHIC,
    Recommendation,
)
from apps.recommend.engine.bundle.tuning import (
    BLEND_GAIN_SE,
    BLEND_LEVELS,
    BLEND_PASSES,
    HISTORY_SLICES,
    MIN_BLEND_GAIN,
    SIMPLICITY,
    VALIDATION_CANDIDATES,
    VALIDATION_LISTENERS,
    VALIDATION_MIN_HISTORY,
    VALIDATION_SHARE,
    WINDOWS_PER_LISTENER,
)

__all__ = [
    "ARTIST_BLOCK",
    "ARTIST_CAP",
    "BLEND_GAIN_SE",
    "BLEND_LEVELS",
    "BLEND_PASSES",
    "CALIBRATION_BINS",
    "CALIBRATION_PRIOR",
    "CALIBRATION_RANKS",
    "CALIBRATION_SLICES",
    "FALLBACK_ORDER",
    "FORMAT_VERSION",
    "HISTORY_SLICES",
    "MIN_BLEND_GAIN",
    "REASON_DEMOGRAPHIC",
    "REFIT_MIN_HELDOUT_SHARE",
    "SIMPLICITY",
    "VALIDATION_CANDIDATES",
    "VALIDATION_LISTENERS",
    "VALIDATION_MIN_HISTORY",
    "VALIDATION_SHARE",
    "WINDOWS_PER_LISTENER",
    "BundleError",
    "EngineBundle",
    "Recommendation",
    "build_default_ensemble",
    "default_predictors",
    "load_bundle",
]
