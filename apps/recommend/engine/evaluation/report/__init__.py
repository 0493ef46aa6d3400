"""Turn :class:`RunResult` rows into a Markdown report, PNG plots and a JSON dump.

The package re-exports the public names of its modules, so callers import from
``apps.recommend.engine.evaluation.report`` whichever module defines them:

- ``stats``: :func:`aggregate` (mean and sample std over seeds) and :class:`Stat`;
- ``markdown``: :func:`markdown_report`, its tables and the goals it checks;
- ``plots``: :func:`write_plots` (matplotlib, imported only when plotting).

This module writes the report folder (:func:`write_report`) and reads ``results.json`` back
(:func:`load_results`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from apps.recommend.engine.evaluation.readers import LoadedDataset
from apps.recommend.engine.evaluation.report.markdown import (
    BIVAE_NDCG,
    COLD_START_GOAL_SLICES,
    ENSEMBLE,
    GOAL_COLD,
    GOAL_COVERAGE,
    GOAL_STRONG,
    MSR_PUBLISHED,
    POPULARITY,
    markdown_report,
)
from apps.recommend.engine.evaluation.report.plots import write_plots
from apps.recommend.engine.evaluation.report.stats import Key, Stat, aggregate
from apps.recommend.engine.evaluation.runner import RunResult

__all__ = [
    "BIVAE_NDCG",
    "COLD_START_GOAL_SLICES",
    "ENSEMBLE",
    "GOAL_COLD",
    "GOAL_COVERAGE",
    "GOAL_STRONG",
    "MSR_PUBLISHED",
    "POPULARITY",
    "Key",
    "Stat",
    "aggregate",
    "load_results",
    "markdown_report",
    "write_plots",
    "write_report",
]


def load_results(path: Path | str) -> tuple[dict[str, Any], list[RunResult]]:
    """Read a ``results.json`` back (to re-render a report without re-running)."""
    payload = json.loads(Path(path).read_text(encoding="utf-8"))
    results = [
        RunResult(**{**row, "reliability": [tuple(t) for t in row["reliability"]]})
        for row in payload["results"]
    ]
    return payload, results


def write_report(
    loaded: LoadedDataset,
    results: Sequence[RunResult],
    out_dir: Path | str,
    *,
    command: str = "",
    seeds: Sequence[int] = (),
) -> Path:
    """Write ``report.md``, ``results.json`` and the plots into ``out_dir``; return the report."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plots = write_plots(results, out)
    text = markdown_report(
        loaded, results, command=command, seeds=seeds, plots=[str(p) for p in plots]
    )
    report_path = out / "report.md"
    report_path.write_text(text, encoding="utf-8")
    payload: dict[str, Any] = {
        "dataset": loaded.name,
        "summary": loaded.summary(),
        "command": command,
        "seeds": list(seeds),
        "results": [r.as_dict() for r in results],
    }
    (out / "results.json").write_text(json.dumps(payload, indent=1), encoding="utf-8")
    return report_path
