"""First start (`make run`): make sure there is a catalog to search.

An empty catalog is filled from, in order: an official archive already unpacked under
var/data/, the official ``fma_metadata.zip`` when it can be downloaded, the folder named by
``FMA_METADATA_DIR``. When none works it says exactly what to do and exits 0, so the site still
starts (with an empty catalog).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from apps.catalog import download as fma_download
from apps.catalog import fma
from apps.catalog.download import DownloadFailed, download_fma_metadata
from apps.catalog.selectors import catalog_is_empty

DOWNLOAD_DIR = settings.VAR_DIR / "data"


class Command(BaseCommand):
    help = "Import the FMA catalog if there is none (official download, else FMA_METADATA_DIR)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-download", action="store_true", help="do not try the official download"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not catalog_is_empty():
            self.stdout.write("Catalog present; nothing to import.")
            return
        source = (
            self._unpacked()
            or (None if options["no_download"] else self._download())
            or self._configured()
        )
        if source is None:
            self._explain()
            return
        call_command("import_fma", str(source), stdout=self.stdout, stderr=self.stderr)

    def _unpacked(self) -> Path | None:
        try:
            return fma.find_metadata_dir(DOWNLOAD_DIR)
        except fma.MetadataNotFound:
            return None

    def _download(self) -> Path | None:
        self.stdout.write(
            f"The catalog is empty. Downloading {fma_download.FMA_METADATA_URL} (about 342 MB)..."
        )
        try:
            return download_fma_metadata(DOWNLOAD_DIR)
        except DownloadFailed as error:
            self.stdout.write(f"Download not possible: {error}")
            return None

    def _configured(self) -> Path | None:
        configured = settings.FMA_METADATA_DIR
        if not configured:
            return None
        try:
            return fma.find_metadata_dir(configured)
        except fma.MetadataNotFound as error:
            self.stdout.write(self.style.WARNING(f"FMA_METADATA_DIR: {error}"))
            return None

    def _explain(self) -> None:
        self.stdout.write(
            self.style.WARNING(
                "The catalog is empty and no FMA metadata could be found. The site will start, "
                "but search has nothing to find. To import a catalog, either:\n"
                f"  1. download {fma_download.FMA_METADATA_URL}, unzip it into var/data/ "
                "(giving var/data/fma_metadata/tracks.csv) and run `make run` again; or\n"
                "  2. point FMA_METADATA_DIR at a folder holding tracks.csv, genres.csv and "
                "echonest.csv (for example FMA_METADATA_DIR=../shared/data/fma/fma_metadata_subset "
                "make run); or\n"
                "  3. run `.venv/bin/python manage.py import_fma PATH` yourself."
            )
        )
