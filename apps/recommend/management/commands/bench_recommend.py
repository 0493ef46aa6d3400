"""``manage.py bench_recommend``: training time, serving latency percentiles and memory.

Generates a synthetic catalog and listener histories of the requested size (default: FMA's
106,574 tracks and 2.4 M interactions), trains the full ensemble, saves and reloads the bundle,
then times uncached recommendations for 50-song histories (every predictor plus the ensemble)
and cached ones (the per-listener cache path of the web process). Prints p50/p95/p99.
"""

from __future__ import annotations

import gc
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandParser

from apps.accounts.models import Listener
from apps.recommend.engine.bundle import EngineBundle, load_bundle
from apps.recommend.engine.dataset import Context
from apps.recommend.engine.synthetic import generate
from apps.recommend.registry import serve_bundle
from apps.recommend.services import recommendations_for


def _rss_mb() -> float:
    """Resident memory now (from /proc), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(bundle: EngineBundle, contexts: list[Context]) -> str:
    """Percentiles of ``bundle.recommend`` over ``contexts`` (after a short warm-up)."""
    for context in contexts[:20]:
        bundle.recommend(context, 10)
    samples = []
    for context in contexts:
        t0 = time.perf_counter()
        bundle.recommend(context, 10)
        samples.append((time.perf_counter() - t0) * 1000)
    return _percentiles(samples)


def _percentiles(samples_ms: list[float]) -> str:
    p50, p95, p99 = np.percentile(samples_ms, [50, 95, 99])
    return f"p50 {p50:.2f} ms  p95 {p95:.2f} ms  p99 {p99:.2f} ms  (n={len(samples_ms)})"


WORKER_PROBE = """
import django, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "musicrec.settings")
django.setup()
import musicrec.urls  # everything a web worker imports to serve requests
from pathlib import Path
from apps.recommend.engine.bundle import load_bundle
def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
before = rss()
bundle = load_bundle(Path(sys.argv[1]))
print(f"{before:.0f} MiB before loading, {rss():.0f} MiB with the model; torch imported: "
      f"{'torch' in sys.modules}")
"""


def _fresh_worker_rss(path: Path) -> str:
    import subprocess
    import sys

    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", WORKER_PROBE, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or f"probe failed: {result.stderr.strip()[-300:]}"


class Command(BaseCommand):
    help = "Benchmark recommendation training, latency and memory on synthetic data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tracks", type=int, default=106_574)
        parser.add_argument("--interactions", type=int, default=2_400_000)
        parser.add_argument("--requests", type=int, default=1_000)
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args: Any, **opts: Any) -> None:
        out = self.stdout.write
        out(f"Generating {opts['interactions']:,} interactions over {opts['tracks']:,} tracks...")
        data = generate(
            n_tracks=opts["tracks"], n_interactions=opts["interactions"], seed=opts["seed"]
        )
        dataset = data.dataset
        out(f"  {dataset.n_listeners:,} listeners, {dataset.n_interactions:,} interactions")

        bundle = EngineBundle(seed=opts["seed"])
        started = time.perf_counter()
        bundle.fit(dataset)
        out(f"Training (all predictors + validation): {time.perf_counter() - started:.1f} s")
        for name, seconds in bundle.metadata["predictor_fit_seconds"].items():
            out(f"  {name:12s} {seconds:.1f} s")
        out("Blend weights and validation NDCG@10 per history slice:")
        by_slice = bundle.metadata.get("validation_ndcg10_by_slice", {})
        for slice_name, weights in bundle.slice_quality.items():
            shown = ", ".join(f"{name} {weight:.2f}" for name, weight in weights.items())
            ndcg = by_slice.get(slice_name, {}).get("ensemble", float("nan"))
            out(f"  {slice_name:6s} {shown}; ensemble NDCG@10 {ndcg:.4f}")
        bundle.titles = data.titles

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bench.bundle"
            bundle.save(path)
            size_mb = path.stat().st_size / 2**20
            del bundle, dataset
            gc.collect()
            served = load_bundle(path)
            worker_rss = _fresh_worker_rss(path)
        out(f"Bundle file {size_mb:.0f} MiB")
        out(f"Web worker RSS (fresh process: Django set up + bundle loaded): {worker_rss}")

        rng = np.random.default_rng(opts["seed"])
        histories = [
            rng.choice(len(served.track_ids), size=50, replace=False)
            for _ in range(opts["requests"])
        ]
        contexts = [
            Context(history=h.astype(np.int64), age=float(rng.integers(13, 80)), gender="F")
            for h in histories
        ]
        out(f"Uncached recommendation, 50-song history, top 10: {_timed(served, contexts)}")
        # The tuned blend may switch predictors off; every predictor is scored either way, but
        # standardising and adding each one's vector costs too, so measure the full blend.
        tuned = served.slice_quality
        served.slice_quality = {name: dict.fromkeys(w, 1.0) for name, w in tuned.items()}
        out(f"  the same with every predictor weighted: {_timed(served, contexts)}")
        served.slice_quality = tuned

        engine = serve_bundle(served, "bench")
        listener = Listener(id=10**9, age=30, gender="F", country="GB", occupation="student")
        track_ids = [int(engine.track_ids[p]) for p in histories[0]]
        recommendations_for(listener=listener, n=10, history=track_ids)  # fills the cache
        cached = []
        for _ in range(opts["requests"]):
            t0 = time.perf_counter()
            recommendations_for(listener=listener, n=10, history=track_ids)
            cached.append((time.perf_counter() - t0) * 1000)
        out(f"Cached recommendation (cache hit + history filter): {_percentiles(cached)}")
        out(f"Final process RSS: {_rss_mb():.0f} MiB")
