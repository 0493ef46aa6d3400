"""Benchmark: training time per predictor, uncached recommendation latency, serving memory.

    python -m apps.recommend.engine.bench --tracks 106574 --interactions 2400000

Trains every predictor on a synthetic dataset of that size, measures ``Ensemble.recommend``
(all predictors + ensemble, top 10, a 50-song history, nothing cached) in this process, saves
the bundle, then starts a fresh Python process that loads the bundle the way a web worker would
and reports its RSS before/after loading, whether torch got imported, and the same latency
percentiles. ``--blas-threads`` sets the BLAS threads of that worker: the 106K x 64 mat-vec
takes ~0.75 ms with 2 threads on an idle 2-core machine but ~3 ms with 1, while on a busy one
2 threads spin-wait and p99 explodes. ``--bundle`` measures an existing bundle without training.
``manage.py bench_recommend`` wraps :func:`main`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import cast

import numpy as np

from apps.recommend.engine.dataset import Context, Dataset

HISTORY = 50
BLAS_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def rss_mb() -> float:
    """Resident set size of this process in MiB (Linux; 0 elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def bench_contexts(dataset: Dataset, n: int, seed: int = 1) -> list[Context]:
    """Contexts of real listeners with ``HISTORY`` songs (topped up at random when shorter)."""
    rng = np.random.default_rng(seed)
    lf = dataset.listeners
    users = rng.choice(dataset.n_listeners, size=min(n, dataset.n_listeners), replace=False)
    order = np.argsort(dataset.user, kind="stable")
    starts = np.searchsorted(dataset.user[order], np.arange(dataset.n_listeners + 1))
    out = []
    for u in users:
        items = dataset.item[order[starts[u] : starts[u + 1]]][:HISTORY]
        if len(items) < HISTORY:
            extra = rng.choice(dataset.n_tracks, HISTORY - len(items), replace=False)
            items = np.concatenate([items, extra])
        out.append(
            Context(
                history=items.astype(np.int64),
                age=float(lf.age[u]) if lf is not None else float("nan"),
                gender=str(lf.gender[u]) if lf is not None else "",
                country=str(lf.country[u]) if lf is not None else "",
                occupation=str(lf.occupation[u]) if lf is not None else "",
            )
        )
    return out


def latency_ms(
    fn: Callable[[Context], object], contexts: Sequence[Context], repeats: int
) -> dict[str, float]:
    for c in contexts[:20]:  # warm-up
        fn(c)
    times = []
    for j in range(repeats):
        c = contexts[j % len(contexts)]
        t0 = time.perf_counter()
        fn(c)
        times.append((time.perf_counter() - t0) * 1000)
    a = np.asarray(times)
    return {
        "p50": round(float(np.percentile(a, 50)), 3),
        "p95": round(float(np.percentile(a, 95)), 3),
        "p99": round(float(np.percentile(a, 99)), 3),
        "max": round(float(a.max()), 3),
    }


def _serve(path: str, contexts_path: str, repeats: int) -> None:
    """The fresh-process half: load the bundle like a web worker and measure."""
    before = rss_mb()
    from apps.recommend.engine.artifacts import load_engine

    after_import = rss_mb()
    t0 = time.perf_counter()
    engine = load_engine(path)
    load_s = time.perf_counter() - t0
    after_load = rss_mb()
    contexts = [
        Context(history=np.asarray(c.pop("history"), dtype=np.int64), **c)
        for c in json.loads(Path(contexts_path).read_text())
    ]
    lat = latency_ms(lambda c: engine.recommend(c, 10), contexts, repeats)
    sys.stdout.write(
        json.dumps(
            {
                "rss_before_mb": round(before, 1),
                "rss_after_imports_mb": round(after_import, 1),
                "rss_after_load_mb": round(after_load, 1),
                "load_s": round(load_s, 2),
                "torch_imported": "torch" in sys.modules,
                "latency_ms": lat,
                "rss_end_mb": round(rss_mb(), 1),
            }
        )
        + "\n"
    )


def main(argv: Sequence[str] | None = None, out: Callable[[str], object] = print) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tracks", type=int, default=106_574)
    parser.add_argument("--interactions", type=int, default=2_400_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=500)
    parser.add_argument("--keep", type=str, default=None, help="save the bundle here")
    parser.add_argument("--bundle", type=str, default=None, help="only measure this bundle")
    parser.add_argument("--blas-threads", type=int, default=None)
    parser.add_argument("--serve-only", type=str, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--contexts", type=str, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_only:
        _serve(args.serve_only, args.contexts, args.repeats)
        return 0

    env = dict(os.environ)
    if args.blas_threads:
        env.update({k: str(args.blas_threads) for k in BLAS_ENV})
    if args.bundle:
        from apps.recommend.engine.artifacts import read_metadata

        n_tracks = int(read_metadata(args.bundle)["n_tracks"])
        rng = np.random.default_rng(args.seed)
        random_contexts = [
            Context(
                history=rng.choice(n_tracks, HISTORY, replace=False),
                age=float(rng.integers(15, 70)),
                gender=str(rng.choice(["m", "f"])),
                country="US",
                occupation="student",
            )
            for _ in range(200)
        ]
        with tempfile.TemporaryDirectory() as tmp:
            return _spawn_worker(
                Path(args.bundle), random_contexts, Path(tmp), args.repeats, env, out
            )

    from apps.recommend.engine.artifacts import save_engine
    from apps.recommend.engine.model import HybridConfig
    from apps.recommend.engine.pipeline import build_engine
    from apps.recommend.engine.synthetic import generate

    t0 = time.perf_counter()
    dataset = generate(
        n_tracks=args.tracks, n_interactions=args.interactions, seed=args.seed
    ).dataset
    out(
        f"dataset: {dataset.n_tracks:,} tracks, {dataset.n_interactions:,} interactions, "
        f"{dataset.n_listeners:,} listeners (generated in {time.perf_counter() - t0:.1f} s)"
    )
    cfg = HybridConfig(seed=args.seed)
    if args.epochs is not None:
        cfg.epochs = args.epochs

    def progress(epoch: int, epochs: int, loss: float) -> None:
        out(f"  model epoch {epoch}/{epochs} loss {loss:.4f}")

    cfg.progress = progress
    t0 = time.perf_counter()
    engine = build_engine(dataset, hybrid=cfg)
    total = time.perf_counter() - t0
    for name, secs in engine.metadata["timings"].items():
        out(f"train {name:<12} {secs:8.2f} s")
    out(f"train {'all':<12} {total:8.2f} s")

    contexts = bench_contexts(dataset, 200)
    lat = latency_ms(lambda c: engine.recommend(c, 10), contexts, args.repeats)
    out(f"recommend (in training process, 50-song history, top 10, uncached) ms: {lat}")
    per = {}
    for p in engine.ensemble.predictors:
        score = cast(Callable[[Context], object], p.score)
        per[p.name] = latency_ms(score, contexts, min(args.repeats, 200))["p50"]
    out(f"per-predictor score p50 ms: {per}")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.keep) if args.keep else Path(tmp) / "engine.bundle"
        t0 = time.perf_counter()
        save_engine(engine, path)
        size_mb = path.stat().st_size / 2**20
        out(f"bundle: {size_mb:.1f} MiB written in {time.perf_counter() - t0:.1f} s")
        return _spawn_worker(path, contexts, Path(tmp), args.repeats, env, out)


def _spawn_worker(
    path: Path,
    contexts: list[Context],
    tmp: Path,
    repeats: int,
    env: dict[str, str],
    out: Callable[[str], object],
) -> int:
    """Measure ``path`` in a fresh interpreter, as a web worker would load it."""
    ctx_path = tmp / "contexts.json"
    ctx_path.write_text(
        json.dumps(
            [
                {
                    "history": c.history.tolist(),
                    "age": c.age,
                    "gender": c.gender,
                    "country": c.country,
                    "occupation": c.occupation,
                }
                for c in contexts
            ]
        )
    )
    proc = subprocess.run(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "apps.recommend.engine.bench",
            "--serve-only",
            str(path),
            "--contexts",
            str(ctx_path),
            "--repeats",
            str(repeats),
        ],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    if proc.returncode != 0:
        out(f"serving process failed: {proc.stderr[-2000:]}")
        return 1
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    out(
        f"fresh worker: RSS {res['rss_before_mb']} MiB at start, "
        f"{res['rss_after_imports_mb']} MiB after imports, "
        f"{res['rss_after_load_mb']} MiB after loading the bundle ({res['load_s']} s); "
        f"torch imported: {res['torch_imported']}"
    )
    out(f"recommend (fresh worker, 50-song history, top 10, uncached) ms: {res['latency_ms']}")
    out(f"fresh worker RSS at the end: {res['rss_end_mb']} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
