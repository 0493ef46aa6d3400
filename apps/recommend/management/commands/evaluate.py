"""``manage.py evaluate``: offline ranking quality against baselines on a dataset.

Thin on purpose: it parses arguments, loads the dataset (files, or our event store through
``apps.history.selectors.evaluation_event_rows``) and hands over to
``apps.recommend.engine.evaluation``, which never imports Django.
"""

from __future__ import annotations

import importlib
import shlex
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.recommend.engine.evaluation.readers import (
    DATASET_FOLDERS,
    EVENTS_DATASET,
    DatasetFormatError,
    LoadedDataset,
    load_dataset,
    read_event_rows,
)

PROTOCOL_CHOICES = ("strong", "coldstart", "msr", "all")
#: Seeds are FIRST_SEED, FIRST_SEED + 1, ...: 42 is the MS Recommenders split.
FIRST_SEED = 42
#: Our event store hands rows over through this function (see docs/evaluation.md).
DEFAULT_HELDOUT_USERS = 0.15
EVENTS_HOOK = ("apps.history.selectors", "evaluation_event_rows")


class Command(BaseCommand):
    help = "Evaluate our predictors and the baselines offline and write a Markdown report."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dataset",
            required=True,
            help=f"{', '.join([*DATASET_FOLDERS, EVENTS_DATASET])}, or a generic folder path",
        )
        parser.add_argument("--protocol", choices=PROTOCOL_CHOICES, default="all")
        parser.add_argument("--seeds", type=int, default=3, help="number of seeds (>= 1)")
        parser.add_argument("--out", type=Path, default=None, help="report folder")
        parser.add_argument(
            "--data-dir",
            type=Path,
            default=None,
            help="root of the named datasets (default: settings.EVALUATION_DATA_DIR)",
        )
        parser.add_argument(
            "--predictors",
            default="all",
            help="'all', 'baselines', 'ours', or a comma-separated list of predictor names",
        )
        parser.add_argument(
            "--heldout-users",
            type=float,
            default=DEFAULT_HELDOUT_USERS,
            help="share of listeners held out for validation, and again for test",
        )
        parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    def handle(self, *args: Any, **options: Any) -> None:
        from apps.recommend.engine.evaluation.ours import our_specs
        from apps.recommend.engine.evaluation.report import write_report
        from apps.recommend.engine.evaluation.runner import (
            PROTOCOLS,
            baseline_specs,
            run_protocols,
        )

        if options["seeds"] < 1:
            raise CommandError("--seeds must be at least 1")
        if not 0 < options["heldout_users"] < 0.5:
            raise CommandError("--heldout-users must be between 0 and 0.5")
        loaded = self._load(options["dataset"], options["data_dir"])
        self.stdout.write(loaded.summary())
        for note in loaded.notes:
            self.stdout.write(self.style.WARNING(note))

        specs = baseline_specs() + our_specs()
        wanted = options["predictors"]
        if wanted == "baselines":
            specs = [s for s in specs if s.group == "baseline"]
        elif wanted == "ours":
            specs = [s for s in specs if s.group == "ours"]
        elif wanted != "all":
            names = [n.strip() for n in wanted.split(",") if n.strip()]
            unknown = sorted(set(names) - {s.name for s in specs})
            if unknown:
                raise CommandError(
                    f"unknown predictor(s) {unknown}; available: {[s.name for s in specs]}"
                )
            specs = [s for s in specs if s.name in names]
        self.stdout.write(f"Predictors: {', '.join(s.name for s in specs)}")

        protocol = options["protocol"]
        protocols = list(PROTOCOLS) if protocol == "all" else [protocol]
        seeds = [FIRST_SEED + i for i in range(options["seeds"])]
        results = run_protocols(
            loaded,
            protocols,
            specs,
            seeds,
            heldout_users=options["heldout_users"],
            progress=not options["no_progress"],
        )
        out = options["out"] or Path(settings.BASE_DIR) / "var" / "evaluation" / loaded.name
        command = self._command_line(options)
        report = write_report(loaded, results, out, command=command, seeds=seeds)
        self.stdout.write(self.style.SUCCESS(f"Report written to {report}"))

    @staticmethod
    def _command_line(options: dict[str, Any]) -> str:
        """The command that reproduces this run, for the report."""
        parts = ["python", "manage.py", "evaluate", "--dataset", str(options["dataset"])]
        parts += ["--protocol", options["protocol"], "--seeds", str(options["seeds"])]
        if options["predictors"] != "all":
            parts += ["--predictors", options["predictors"]]
        if options["heldout_users"] != DEFAULT_HELDOUT_USERS:
            parts += ["--heldout-users", str(options["heldout_users"])]
        if options["data_dir"] is not None:
            parts += ["--data-dir", str(options["data_dir"])]
        if options["out"] is not None:
            parts += ["--out", str(options["out"])]
        return " ".join(shlex.quote(p) for p in parts)

    def _load(self, dataset: str, data_dir: Path | None) -> LoadedDataset:
        if dataset == EVENTS_DATASET:
            return self._load_events()
        root = data_dir or Path(settings.EVALUATION_DATA_DIR)
        try:
            return load_dataset(dataset, root)
        except DatasetFormatError as exc:
            raise CommandError(str(exc)) from exc

    def _load_events(self) -> LoadedDataset:
        module_name, function_name = EVENTS_HOOK
        try:
            rows_for_evaluation = getattr(importlib.import_module(module_name), function_name)
        except (ImportError, AttributeError) as exc:
            raise CommandError(
                f"the events dataset needs {module_name}.{function_name}() returning "
                "(events, listeners, tracks) rows; it is not there yet"
            ) from exc
        events, listeners, tracks = rows_for_evaluation()
        return read_event_rows(events, listeners, tracks)
