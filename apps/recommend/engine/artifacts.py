"""Save and load a trained :class:`~apps.recommend.engine.pipeline.Engine` as one file.

Layout (little-endian)::

    b"MRECBNDL" | u32 header length | header JSON | metadata JSON | .npz payload

The header holds the format version, the lengths of the two parts after it and the sha256 of
metadata + payload. Everything is NumPy arrays (no pickle) and JSON, so loading needs neither
torch nor ``allow_pickle``. Saving writes a temp file in the target directory, fsyncs it and
``os.replace``-s it over the target, so readers see the old file or the new one, never half.
Loading verifies magic, version and checksum and raises :class:`ArtifactError` otherwise,
so a caller can keep serving the previous version.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from apps.recommend.engine.demographic import DemographicPredictor
from apps.recommend.engine.ensemble import Calibrator, Catalog
from apps.recommend.engine.model import HybridPredictor
from apps.recommend.engine.pipeline import Engine, build_ensemble
from apps.recommend.engine.popularity import PopularityPredictor
from apps.recommend.engine.similar import SimilarTracks

MAGIC = b"MRECBNDL"
FORMAT_VERSION = 1
_LEN = struct.Struct("<I")


class ArtifactError(ValueError):
    """The artifact is missing, truncated, corrupted or of an unknown format version."""


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


def save_engine(
    engine: Engine, path: str | os.PathLike[str], *, metrics: dict[str, Any] | None = None
) -> Path:
    """Write ``engine`` to ``path`` atomically and return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {}
    parts: dict[str, Any] = {}
    for key, predictor in (
        ("model", engine.model),
        ("demographic", engine.demographic),
        ("popularity", engine.popularity),
        ("similar", engine.similar_tracks),
    ):
        arr, meta = predictor.get_state()
        parts[key] = meta
        for name, a in arr.items():
            arrays[f"{key}/{name}"] = np.asarray(a)
    cat = engine.ensemble.catalog
    arrays["catalog/artist"] = cat.artist
    arrays["catalog/prior"] = cat.prior
    metadata = {
        **engine.metadata,
        "metrics": {**engine.metadata.get("metrics", {}), **(metrics or {})},
        "created": time.time(),
        "parts": parts,
        "ensemble": engine.ensemble.config(),
        "catalog": {"titles": cat.titles, "artist_names": cat.artist_names},
    }
    meta_bytes = json.dumps(_jsonable(metadata)).encode()
    buf = io.BytesIO()
    np.savez(buf, allow_pickle=False, **arrays)
    payload = buf.getvalue()
    digest = hashlib.sha256(meta_bytes)
    digest.update(payload)
    header = json.dumps(
        {
            "format_version": FORMAT_VERSION,
            "sha256": digest.hexdigest(),
            "meta_len": len(meta_bytes),
            "payload_len": len(payload),
        }
    ).encode()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(MAGIC)
            fh.write(_LEN.pack(len(header)))
            fh.write(header)
            fh.write(meta_bytes)
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp).replace(target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The metadata of a verified artifact (without building the engine)."""
    meta, _ = _read_verified(Path(path))
    return meta


def _read_verified(path: Path) -> tuple[dict[str, Any], memoryview]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ArtifactError(f"cannot read model artifact {path}: {exc}") from exc
    if len(data) < len(MAGIC) + _LEN.size or not data.startswith(MAGIC):
        raise ArtifactError(f"{path} is not a musicrec model artifact (bad magic)")
    (hlen,) = _LEN.unpack_from(data, len(MAGIC))
    start = len(MAGIC) + _LEN.size
    try:
        header = json.loads(data[start : start + hlen])
        meta_len, payload_len = int(header["meta_len"]), int(header["payload_len"])
        version, expected = int(header["format_version"]), str(header["sha256"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(f"{path}: unreadable artifact header ({exc})") from exc
    if version != FORMAT_VERSION:
        raise ArtifactError(
            f"{path}: artifact format version {version}, this code reads {FORMAT_VERSION}"
        )
    body = memoryview(data)[start + hlen :]  # no copy of a ~100 MB file
    if len(body) != meta_len + payload_len:
        raise ArtifactError(
            f"{path}: truncated or padded artifact ({len(body)} bytes, "
            f"expected {meta_len + payload_len})"
        )
    if hashlib.sha256(body).hexdigest() != expected:
        raise ArtifactError(f"{path}: checksum mismatch, the artifact is corrupted")
    try:
        meta = json.loads(bytes(body[:meta_len]))
    except ValueError as exc:
        raise ArtifactError(f"{path}: unreadable metadata ({exc})") from exc
    return meta, body[meta_len:]


def load_engine(path: str | os.PathLike[str]) -> Engine:
    """Load and verify an artifact written by :func:`save_engine`; never imports torch."""
    p = Path(path)
    meta, payload = _read_verified(p)
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise ArtifactError(f"{p}: unreadable array payload ({exc})") from exc

    def part(prefix: str) -> dict[str, np.ndarray]:
        pre = prefix + "/"
        return {k[len(pre) :]: v for k, v in arrays.items() if k.startswith(pre)}

    try:
        parts = meta["parts"]
        model = HybridPredictor.from_state(part("model"), parts["model"])
        demographic = DemographicPredictor.from_state(part("demographic"), parts["demographic"])
        popularity = PopularityPredictor.from_state(part("popularity"), parts["popularity"])
        similar = SimilarTracks.from_state(part("similar"), parts["similar"], model)
        ens = meta["ensemble"]
        catalog = Catalog(
            artist=arrays["catalog/artist"],
            prior=arrays["catalog/prior"],
            titles=list(meta["catalog"]["titles"]),
            artist_names=list(meta["catalog"]["artist_names"]),
        )
        ensemble = build_ensemble(
            model, demographic, popularity, similar, catalog,
            quality={k: float(v) for k, v in ens["quality"].items()},
            max_per_artist=ens["max_per_artist"],
            calibrator=Calibrator(x=ens["calibrator"]["x"], y=ens["calibrator"]["y"]),
        )  # fmt: skip
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtifactError(f"{p}: incomplete artifact ({exc!r})") from exc
    ensemble.z0, ensemble.tau = float(ens["z0"]), float(ens["tau"])
    metadata = {k: v for k, v in meta.items() if k not in ("parts", "ensemble", "catalog")}
    return Engine(model, demographic, popularity, similar, ensemble, metadata)
