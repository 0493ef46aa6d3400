"""The report: tables per protocol, the goals check, plots and the JSON dump."""

from __future__ import annotations

import json
from pathlib import Path

from apps.recommend.engine.evaluation.readers import LoadedDataset
from apps.recommend.engine.evaluation.report import (
    aggregate,
    load_results,
    markdown_report,
    write_report,
)
from apps.recommend.engine.evaluation.report.plots import predictor_colours
from apps.recommend.engine.evaluation.runner import RunResult
from tests.recommend.evaluation.planted import planted_dataset


def _result(protocol: str, slice_name: str, name: str, seed: int, **values: float) -> RunResult:
    group = "ours" if name == "ensemble" else "baseline"
    return RunResult(protocol, slice_name, name, group, seed, {}, dict(values), [(0.5, 1, 1)])


def _results() -> list[RunResult]:
    rows = []
    for seed, bump in ((42, 0.0), (43, 0.02)):
        rows += [
            _result(
                "strong",
                "full",
                "popularity",
                seed,
                **{"ndcg@10": 0.10 + bump, "coverage@10": 0.02},
            ),
            _result(
                "strong", "full", "ease", seed, **{"ndcg@10": 0.30 + bump, "coverage@10": 0.10}
            ),
            _result(
                "strong", "full", "ensemble", seed, **{"ndcg@10": 0.33 + bump, "coverage@10": 0.05}
            ),
            _result("coldstart", "demographics", "popularity", seed, **{"ndcg@10": 0.10}),
            _result("coldstart", "demographics", "ensemble", seed, **{"ndcg@10": 0.14}),
            _result("msr", "msr", "ensemble", seed, **{"msr_ndcg@10": 0.48, "msr_recall@10": 0.2}),
        ]
    return rows


def test_aggregate_is_mean_and_sample_std() -> None:
    stats = aggregate(_results())
    cell = stats[("strong", "full", "ease")]["ndcg@10"]
    assert cell.n == 2
    assert abs(cell.mean - 0.31) < 1e-12
    assert abs(cell.std - 0.0141421356) < 1e-9  # sample std of (0.30, 0.32)
    assert cell.fmt() == "0.3100 ± 0.0141"


def test_goals_are_checked_against_the_right_rows() -> None:
    loaded = LoadedDataset(name="toy", dataset=planted_dataset())
    text = markdown_report(loaded, _results(), seeds=[42, 43])
    assert "## Strong generalization" in text and "## Cold start" in text
    assert "## MS Recommenders ML-100K protocol" in text
    # 0.34 vs 1.05 x 0.31 = 0.3255: met; coverage 0.05 vs 3 x 0.02: not met
    assert (
        "| Strong generalization NDCG@10 ≥ 1.05 x best baseline | 0.3400 vs 0.3255 (1.097x) | yes |"
        in text
    )
    assert "| Coverage@10 ≥ 3.0 x popularity | 0.0500 vs 0.0600 (2.50x) | **no** |" in text
    # 0.14 vs 1.3 x 0.10
    assert "(1.40x) | yes |" in text
    assert "| MS Recommenders nDCG@10 > BiVAE 0.4751 | 0.4800 | yes |" in text


def test_write_report_makes_markdown_plots_and_json(tmp_path: Path) -> None:
    loaded = LoadedDataset(name="toy", dataset=planted_dataset())
    path = write_report(loaded, _results(), tmp_path, command="manage.py evaluate", seeds=[42, 43])
    assert path.read_text(encoding="utf-8").startswith("# Offline evaluation: toy")
    for png in ("metric_vs_k.png", "coldstart.png", "reliability.png"):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG"
    payload = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert payload["seeds"] == [42, 43] and len(payload["results"]) == 12


def test_results_round_trip_through_json(tmp_path: Path) -> None:
    loaded = LoadedDataset(name="toy", dataset=planted_dataset())
    write_report(loaded, _results(), tmp_path, seeds=[42, 43])
    payload, results = load_results(tmp_path / "results.json")
    assert payload["dataset"] == "toy"
    assert results == _results()


def test_every_predictor_of_a_full_run_gets_its_own_colour() -> None:
    names = [
        "popularity", "demographic-popularity", "itemknn", "ease", "ials", "our-popularity",
        "our-demographic", "our-cooccurrence", "our-model", "our-itemitem", "ensemble",
    ]  # fmt: skip
    colours = predictor_colours(names)
    assert len(set(colours.values())) == len(names)
