"""Saving and loading an :class:`EngineBundle`: one ``.npz`` file, a JSON header, a checksum.

Every array (the bundle's and each predictor's ``get_state``) goes into one ``np.savez`` file,
with the rest as JSON in a ``bundle.meta`` byte array, written atomically next to a ``.sha256``
file. Loading uses ``allow_pickle=False`` and names predictor classes, never module paths, so a
file outlives refactors; what changes its layout bumps ``FORMAT_VERSION``, and a loader refuses
any other version (:class:`BundleError`) rather than serve a half-understood model.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from apps.recommend.engine.bundle.ensemble import EngineBundle, predictor_classes

# 2: four history slices (four calibration rows); 3: the co-occurrence predictor, and per slice
# a calibration row for the top pick and one for the rest of the top 10
FORMAT_VERSION = 3


class BundleError(Exception):
    """A bundle file that cannot be served: corrupted, truncated or of another format."""


def save_bundle(bundle: EngineBundle, path: Path) -> str:
    """Write atomically (temp file + rename); return the file's sha256."""
    arrays: dict[str, np.ndarray] = {
        "bundle.track_ids": bundle.track_ids,
        "bundle.artist": bundle.artist,
        "bundle.calibration_x": bundle.calibration_x,
        "bundle.calibration_y": bundle.calibration_y,
    }
    predictors_meta: dict[str, Any] = {}
    for name, predictor in bundle.predictors.items():
        p_arrays, p_meta = predictor.get_state()
        predictors_meta[name] = {"class": type(predictor).__name__, "meta": p_meta}
        for key, value in p_arrays.items():
            arrays[f"{name}.{key}"] = np.asarray(value)
    meta = {
        "format_version": FORMAT_VERSION,
        "quality": bundle.quality,
        "slice_quality": bundle.slice_quality,
        "confidence_scale": bundle.confidence_scale,
        "titles": bundle.titles,
        "metadata": {k: v for k, v in bundle.metadata.items() if k != "titles"},
        "predictors": predictors_meta,
        "seed": bundle.seed,
    }
    arrays["bundle.meta"] = np.frombuffer(json.dumps(meta, default=_json).encode(), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    payload = buffer.getvalue()
    digest = hashlib.sha256(payload).hexdigest()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".bundle")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    path.with_name(path.name + ".sha256").write_text(digest)
    return digest


def load_bundle(path: Path) -> EngineBundle:
    """Load a saved bundle, refusing anything that is not exactly what was written."""
    try:
        payload = path.read_bytes()
        expected = path.with_name(path.name + ".sha256").read_text().strip()
    except OSError as exc:
        raise BundleError(f"cannot read {path.name}: {exc}") from exc
    if hashlib.sha256(payload).hexdigest() != expected:
        raise BundleError(f"{path.name}: checksum mismatch (corrupted or truncated file)")
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
        meta = json.loads(arrays.pop("bundle.meta").tobytes().decode())
    except Exception as exc:
        raise BundleError(f"{path.name}: not a readable bundle ({exc})") from exc
    if meta.get("format_version") != FORMAT_VERSION:
        raise BundleError(f"{path.name}: format {meta.get('format_version')} != {FORMAT_VERSION}")
    classes = {cls.__name__: cls for cls in predictor_classes().values()}
    predictors: dict[str, Any] = {}
    for name, info in meta["predictors"].items():
        cls = classes.get(info["class"])
        if cls is None:
            raise BundleError(f"{path.name}: unknown predictor class {info['class']}")
        prefix = f"{name}."
        p_arrays = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
        predictors[name] = cls.from_state(p_arrays, info["meta"])
    return EngineBundle(
        predictors=predictors,
        quality={k: float(v) for k, v in meta["quality"].items()},
        slice_quality={
            name: {k: float(v) for k, v in weights.items()}
            for name, weights in meta.get("slice_quality", {}).items()
        },
        confidence_scale={
            name: {k: float(v) for k, v in scales.items()}
            for name, scales in meta.get("confidence_scale", {}).items()
        },
        track_ids=arrays["bundle.track_ids"],
        artist=arrays["bundle.artist"],
        titles=list(meta["titles"]),
        calibration_x=arrays["bundle.calibration_x"],
        calibration_y=arrays["bundle.calibration_y"],
        metadata=dict(meta["metadata"]),
        seed=int(meta.get("seed", 0)),
    )


def _json(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
