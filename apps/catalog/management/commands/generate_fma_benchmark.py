"""Write a generated catalog in the official FMA layout at the official size (for benchmarks)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from apps.catalog.benchdata import OFFICIAL_TRACKS, write_benchmark_catalog

DEFAULT_WORDS = settings.EVALUATION_DATA_DIR / "fma" / "fma_metadata_subset" / "tracks.csv"


class Command(BaseCommand):
    help = "Generate an official-layout tracks.csv/genres.csv/echonest.csv for the benchmarks."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "directory",
            nargs="?",
            default=str(settings.VAR_DIR / "bench" / "fma_metadata_106k"),
            help="output folder (default: var/bench/fma_metadata_106k)",
        )
        parser.add_argument("--tracks", type=int, default=OFFICIAL_TRACKS)
        parser.add_argument("--seed", type=int, default=106_574)
        parser.add_argument(
            "--words-from",
            default=str(DEFAULT_WORDS),
            help="an official-layout tracks.csv whose title/artist words (with their frequencies) "
            "the generated names use; made-up words when it does not exist",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory = Path(options["directory"])
        started = time.perf_counter()
        words_from = Path(options["words_from"])
        if not words_from.is_file():
            self.stdout.write(f"No {words_from}: using made-up words.")
        counts = write_benchmark_catalog(
            directory,
            tracks=options["tracks"],
            seed=options["seed"],
            words_from=words_from if words_from.is_file() else None,
        )
        elapsed = time.perf_counter() - started
        summary = ", ".join(f"{key} {value:,}" for key, value in counts.items())
        self.stdout.write(f"Wrote {directory} in {elapsed:.1f} s: {summary}")
