"""Search latency benchmark: p50/p95/p99 of the search selector over realistic queries."""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from apps.catalog.models import Track
from apps.catalog.selectors import SEARCH_LIMIT, track_search

KINDS = ("prefix", "title", "misspelling", "artist")
WARMUP_QUERIES = 50


def _misspell(text: str, rng: random.Random) -> str:
    """One typing mistake (drop, double, swap or replace a letter) inside the longest word."""
    words = text.split()
    if not words:
        return text
    index = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[index]
    if len(word) < 4:
        return text
    pos = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("drop", "double", "swap", "replace"))
    if kind == "drop":
        word = word[:pos] + word[pos + 1 :]
    elif kind == "double":
        word = word[:pos] + word[pos] + word[pos:]
    elif kind == "swap":
        word = word[: pos - 1] + word[pos] + word[pos - 1] + word[pos + 1 :]
    else:
        word = word[:pos] + rng.choice("aeioulnrst") + word[pos + 1 :]
    words[index] = word
    return " ".join(words)


def build_queries(count: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    ids = list(Track.objects.values_list("id", flat=True))
    if not ids:
        raise CommandError("The catalog is empty: run `manage.py import_fma` first.")
    sample = rng.sample(ids, min(len(ids), count))
    rows = list(Track.objects.filter(id__in=sample).values_list("title", "artist__name"))
    rng.shuffle(rows)
    queries: list[tuple[str, str]] = []
    while len(queries) < count:
        title, artist = rows[len(queries) % len(rows)]
        kind = KINDS[len(queries) % len(KINDS)]
        if kind == "prefix":
            query = title[: rng.randint(2, 6)]
        elif kind == "title":
            query = title
        elif kind == "misspelling":
            query = _misspell(artist if rng.random() < 0.5 else title, rng)
        else:
            query = artist
        queries.append((kind, query))
    return queries


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Command(BaseCommand):
    help = "Time the search selector over realistic queries; prints p50/p95/p99 in ms."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--queries", type=int, default=1200, help="at least 1,000 for the record"
        )
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--limit", type=int, default=SEARCH_LIMIT)

    def handle(self, *args: Any, **options: Any) -> None:
        queries = build_queries(options["queries"], options["seed"])
        for _, query in queries[:WARMUP_QUERIES]:
            track_search(query, limit=options["limit"])
        timings: dict[str, list[float]] = {kind: [] for kind in KINDS}
        empty = 0
        for kind, query in queries:
            started = time.perf_counter()
            results = track_search(query, limit=options["limit"])
            timings[kind].append((time.perf_counter() - started) * 1000)
            empty += not results
        every = [t for values in timings.values() for t in values]
        tracks = Track.objects.count()
        self.stdout.write(
            f"engine={connection.vendor} tracks={tracks:,} queries={len(every):,} "
            f"limit={options['limit']} (selector + loading the result rows; no results: {empty})"
        )
        self.stdout.write(f"{'kind':<12} {'n':>5} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}  ms")
        for kind, values in [*timings.items(), ("all", every)]:
            self.stdout.write(
                f"{kind:<12} {len(values):>5} {statistics.median(values):>7.2f} "
                f"{_percentile(values, 95):>7.2f} {_percentile(values, 99):>7.2f} "
                f"{max(values):>7.2f}"
            )
