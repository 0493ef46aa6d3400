from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from apps.recommend.engine.artifacts import (
    ArtifactError,
    load_engine,
    read_metadata,
    save_engine,
)
from apps.recommend.engine.dataset import Context
from apps.recommend.engine.pipeline import Engine
from apps.recommend.engine.synthetic import SyntheticData


@pytest.fixture
def saved(engine: Engine, tmp_path: Path) -> Path:
    return save_engine(engine, tmp_path / "models" / "v1.bundle", metrics={"recall@10": 0.25})


def _ctx(synthetic: SyntheticData) -> Context:
    d = synthetic.dataset
    return Context(history=d.item[d.user == 5][:15], age=30.0, gender="f", country="US")


def test_round_trip_gives_the_same_recommendations(
    engine: Engine, saved: Path, synthetic: SyntheticData
) -> None:
    loaded = load_engine(saved)

    ctx = _ctx(synthetic)
    assert [(r.track, r.reason) for r in loaded.recommend(ctx, 10)] == [
        (r.track, r.reason) for r in engine.recommend(ctx, 10)
    ]
    assert loaded.similar(3, 5) == engine.similar(3, 5)
    meta = read_metadata(saved)
    assert meta["metrics"] == {"recall@10": 0.25}
    assert meta["fingerprint"] == engine.metadata["fingerprint"]
    assert not list(saved.parent.glob("*.tmp"))  # the temp file was renamed


def test_corrupted_artifact_is_refused(saved: Path) -> None:
    data = bytearray(saved.read_bytes())
    data[len(data) // 2] ^= 0xFF
    saved.write_bytes(bytes(data))

    with pytest.raises(ArtifactError, match="checksum"):
        load_engine(saved)


def test_truncated_artifact_is_refused(saved: Path) -> None:
    saved.write_bytes(saved.read_bytes()[:-100])

    with pytest.raises(ArtifactError, match="truncated"):
        load_engine(saved)


def test_other_format_version_is_refused(saved: Path) -> None:
    data = saved.read_bytes()
    data = data.replace(b'"format_version": 1', b'"format_version": 9', 1)
    saved.write_bytes(data)

    with pytest.raises(ArtifactError, match="format version 9"):
        load_engine(saved)


def test_missing_or_foreign_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError):
        load_engine(tmp_path / "nope.bundle")
    (tmp_path / "x.bundle").write_bytes(b"not a bundle at all")
    with pytest.raises(ArtifactError, match="magic"):
        load_engine(tmp_path / "x.bundle")


def test_serving_from_an_artifact_does_not_import_torch(saved: Path) -> None:
    code = (
        "import sys, json, numpy as np\n"
        "from apps.recommend.engine.artifacts import load_engine\n"
        "from apps.recommend.engine.dataset import Context\n"
        f"e = load_engine({str(saved)!r})\n"
        "recs = e.recommend(Context(history=np.array([1, 2, 3])), 5)\n"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'n': len(recs)}))\n"
    )
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    )

    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"torch": False, "n": 5}
    assert np.isfinite(result["n"])
