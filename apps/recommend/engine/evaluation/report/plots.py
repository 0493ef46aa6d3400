"""The PNG plots: metric vs K, the cold-start slices and the reliability curve.

matplotlib is imported inside :func:`write_plots`, so importing the report costs nothing until a
plot is drawn.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from apps.recommend.engine.evaluation.metrics import reliability_table
from apps.recommend.engine.evaluation.report.stats import aggregate, predictors_in, stat_of
from apps.recommend.engine.evaluation.runner import RANK_KS, RunResult
from apps.recommend.engine.evaluation.splits import COLD_START_SLICES, FULL_SLICE


def predictor_colours(names: Sequence[str]) -> dict[str, tuple[float, ...]]:
    """One colour per predictor, the same in every plot.

    matplotlib's default cycle has 10 colours and a full run has 11 predictors, so the
    ensemble came out in popularity's blue; tab20 has 20 distinct ones.
    """
    from matplotlib import colormaps

    palette = colormaps["tab20"]
    return {name: tuple(palette(i % palette.N)) for i, name in enumerate(names)}


def write_plots(results: Sequence[RunResult], out_dir: Path) -> list[Path]:
    """metric vs K, cold-start slices, reliability curve (only those with data)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stats = aggregate(results)
    written: list[Path] = []
    colour = predictor_colours(list(dict.fromkeys(r.predictor for r in results)))

    names = predictors_in(results, "strong")
    if names:
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        for metric, ax in zip(("recall", "ndcg"), axes, strict=True):
            for name in names:
                ys = [
                    stat_of(stats, ("strong", FULL_SLICE, name), f"{metric}@{k}").mean
                    for k in RANK_KS
                ]
                ax.plot(RANK_KS, ys, marker="o", label=name, color=colour[name])
            ax.set_xscale("log")
            ax.set_xticks(RANK_KS, [str(k) for k in RANK_KS])
            ax.set_xlabel("K")
            ax.set_ylabel(f"{metric.upper() if metric == 'ndcg' else 'Recall'}@K")
            ax.grid(alpha=0.3)
        axes[0].legend(fontsize=8)
        fig.suptitle("Strong generalization: metric vs K")
        fig.tight_layout()
        path = out_dir / "metric_vs_k.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)

    names = predictors_in(results, "coldstart")
    if names:
        slices = list(COLD_START_SLICES)
        has_full = bool(predictors_in(results, "strong"))
        cols = slices + ([FULL_SLICE] if has_full else [])
        fig, ax = plt.subplots(figsize=(11, 4))
        width = 0.8 / len(names)
        xs = np.arange(len(cols))
        for j, name in enumerate(names):
            means, stds = [], []
            for s in cols:
                protocol = "strong" if s == FULL_SLICE else "coldstart"
                st = stat_of(stats, (protocol, s, name), "ndcg@10")
                means.append(st.mean)
                stds.append(st.std)
            ax.bar(
                xs + j * width,
                means,
                width,
                yerr=stds,
                label=name,
                capsize=2,
                color=colour[name],
            )
        ax.set_xticks(xs + width * (len(names) - 1) / 2, cols)
        ax.set_ylabel("NDCG@10")
        ax.set_title("Cold start slices (items fed in)")
        ax.legend(fontsize=8, ncol=2)
        ax.grid(axis="y", alpha=0.3)
        fig.tight_layout()
        path = out_dir / "coldstart.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)

    pooled: dict[str, list[tuple[float, int, int]]] = defaultdict(list)
    for r in results:
        if r.protocol == "strong":
            pooled[r.predictor].extend(r.reliability)
    if pooled:
        fig, ax = plt.subplots(figsize=(6, 5))
        for name, triples in pooled.items():
            arr = np.asarray(triples, dtype=np.float64).reshape(-1, 3)
            table = [b for b in reliability_table(arr[:, 0], arr[:, 1], arr[:, 2]) if b.n_users]
            ax.plot(
                [b.mean_confidence for b in table],
                [b.hit_rate_at_1 for b in table],
                marker="o",
                label=name,
                color=colour[name],
            )
        ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfectly calibrated")
        ax.set_xlabel("mean confidence in bucket")
        ax.set_ylabel("hit@1 (top pick held out)")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_title("Reliability (strong generalization)")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        path = out_dir / "reliability.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written
