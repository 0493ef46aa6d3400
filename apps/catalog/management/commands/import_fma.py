"""Import the FMA catalog from an official-layout folder, or download the official one first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from apps.catalog import download as fma_download
from apps.catalog import fma
from apps.catalog.download import FMA_METADATA_URL, DownloadFailed, download_fma_metadata
from apps.catalog.services import IMPORT_BATCH_SIZE, ImportReport, catalog_import_fma

DOWNLOAD_DIR = settings.VAR_DIR / "data"
SHOWN_REJECTS = 50


class Command(BaseCommand):
    help = (
        "Import FMA metadata (tracks.csv, genres.csv, echonest.csv) from PATH, or from "
        "FMA_METADATA_DIR, or download the official fma_metadata.zip with --download."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", help="folder holding tracks.csv (or fma_metadata/)")
        parser.add_argument(
            "--download", action="store_true", help=f"fetch {FMA_METADATA_URL} into var/data/"
        )
        parser.add_argument("--batch-size", type=int, default=IMPORT_BATCH_SIZE)

    def handle(self, *args: Any, **options: Any) -> None:
        path = self._source(options["path"], download=options["download"])
        self.stdout.write(f"Importing {path}")
        with tqdm(
            total=0, unit="rows", unit_scale=True, file=self.stdout, desc="tracks", mininterval=0.5
        ) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            try:
                report = catalog_import_fma(
                    path=path, batch_size=options["batch_size"], progress=progress
                )
            except fma.MetadataNotFound as error:
                raise CommandError(str(error)) from error
        self._summary(report)

    def _source(self, path: str | None, *, download: bool) -> Path:
        if download:
            self.stdout.write(f"Downloading {fma_download.FMA_METADATA_URL}")
            with tqdm(unit="B", unit_scale=True, file=self.stdout, desc="fma_metadata.zip") as bar:

                def progress(done: int, total: int | None) -> None:
                    bar.total = total
                    bar.update(done - bar.n)

                try:
                    return download_fma_metadata(DOWNLOAD_DIR, progress=progress)
                except DownloadFailed as error:
                    raise CommandError(
                        f"{error}\nWithout network: download fma_metadata.zip elsewhere, unzip it "
                        "and run `manage.py import_fma PATH/fma_metadata` (or set "
                        "FMA_METADATA_DIR and run `manage.py ensure_catalog`)."
                    ) from error
        chosen = path or settings.FMA_METADATA_DIR
        if not chosen:
            raise CommandError(
                "Give PATH (a folder with tracks.csv), set FMA_METADATA_DIR, or use --download."
            )
        return Path(chosen)

    def _summary(self, report: ImportReport) -> None:
        rate = report.tracks / report.seconds if report.seconds else 0.0
        self.stdout.write(
            self.style.SUCCESS(
                f"Done in {report.seconds:.1f} s ({rate:,.0f} tracks/s): "
                f"created {report.created:,}, updated {report.updated:,}, "
                f"skipped {report.skipped:,}; "
                f"{report.genres:,} genres, {report.artists:,} artists, {report.albums:,} albums."
            )
        )
        phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in report.phases.items())
        self.stdout.write(f"Phases: {phases}")
        if report.rejects:
            self.stdout.write(f"Rejected rows ({report.skipped:,}):")
            for reject in report.rejects[:SHOWN_REJECTS]:
                self.stdout.write(f"  track {reject.track_id}: {reject.reason}")
            if report.skipped > SHOWN_REJECTS:
                self.stdout.write(f"  ... and {report.skipped - SHOWN_REJECTS:,} more")
