"""``manage.py evaluate`` end to end on a small generic folder."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from tests.recommend.evaluation.planted import planted_dataset


def _write_folder(folder: Path) -> None:
    ds = planted_dataset()
    lines = ["user_id,item_id,weight,timestamp"]
    for u, i, w, t in zip(ds.user, ds.item, ds.weight, ds.timestamp, strict=True):
        lines.append(f"{ds.listener_ids[u]},{ds.track_ids[i]},{w:g},{t:.0f}")
    (folder / "interactions.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert ds.listeners is not None
    users = ["user_id,age,gender"] + [
        f"{ds.listener_ids[u]},{ds.listeners.age[u]:.0f},{ds.listeners.gender[u]}"
        for u in range(ds.n_listeners)
    ]
    (folder / "users.csv").write_text("\n".join(users) + "\n", encoding="utf-8")


def test_evaluate_writes_a_report(tmp_path: Path) -> None:
    data, out = tmp_path / "data", tmp_path / "out"
    data.mkdir()
    _write_folder(data)
    stdout = StringIO()
    call_command(
        "evaluate",
        "--dataset", str(data),
        "--protocol", "strong",
        "--seeds", "2",
        "--predictors", "popularity,ease",
        "--out", str(out),
        "--no-progress",
        stdout=stdout,
    )  # fmt: skip
    assert "Report written to" in stdout.getvalue()
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "| **ease** |" in report and "| **popularity** |" in report
    assert "--predictors popularity,ease" in report  # the reproducing command
    assert "Seeds: 42, 43" in report


def test_evaluate_rejects_a_malformed_folder(tmp_path: Path) -> None:
    (tmp_path / "interactions.csv").write_text("user_id,item_id,weight\nu,i,x\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"interactions\.csv, line 2: weight 'x'"):
        call_command("evaluate", "--dataset", str(tmp_path), "--no-progress", stdout=StringIO())


def test_evaluate_rejects_unknown_predictors(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    _write_folder(data)
    with pytest.raises(CommandError, match="unknown predictor"):
        call_command("evaluate", "--dataset", str(data), "--predictors", "magic", stdout=StringIO())
