"""Management commands: import_fma, ensure_catalog, generate_fma_benchmark, bench_search."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import CommandError, call_command

from apps.catalog.download import DownloadFailed
from apps.catalog.models import Track
from apps.catalog.services import ImportReport

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_import_fma_prints_summary_and_rejects(fma_dir: Path) -> None:
    output = run("import_fma", str(fma_dir))
    assert "created 7, updated 0, skipped 2" in output
    assert "track 48: track.duration: not a number" in output
    assert "rows/s" in output  # the progress bar


def test_import_fma_without_a_source_says_what_to_do(settings: object) -> None:
    settings.FMA_METADATA_DIR = ""  # type: ignore[attr-defined]
    with pytest.raises(CommandError, match="FMA_METADATA_DIR"):
        run("import_fma")


def test_import_fma_download_without_network(tmp_path: Path) -> None:
    with (
        mock.patch(
            "apps.catalog.management.commands.import_fma.download_fma_metadata",
            side_effect=DownloadFailed("could not download: no network"),
        ),
        pytest.raises(CommandError, match="Without network"),
    ):
        run("import_fma", "--download")


@pytest.fixture
def no_download() -> object:
    with mock.patch(
        "apps.catalog.management.commands.ensure_catalog.download_fma_metadata",
        side_effect=DownloadFailed("no network"),
    ) as patched:
        yield patched


@pytest.fixture
def no_unpacked_archive(tmp_path: Path) -> object:
    with mock.patch(
        "apps.catalog.management.commands.ensure_catalog.DOWNLOAD_DIR", tmp_path / "data"
    ):
        yield


def test_ensure_catalog_falls_back_to_fma_metadata_dir(
    settings: object, fma_dir: Path, no_download: object, no_unpacked_archive: object
) -> None:
    settings.FMA_METADATA_DIR = str(fma_dir)  # type: ignore[attr-defined]
    output = run("ensure_catalog")
    assert "Download not possible" in output
    assert Track.objects.count() == 7


def test_ensure_catalog_explains_and_exits_zero(
    settings: object, no_download: object, no_unpacked_archive: object
) -> None:
    settings.FMA_METADATA_DIR = ""  # type: ignore[attr-defined]
    output = run("ensure_catalog")
    assert "FMA_METADATA_DIR" in output and "import_fma" in output
    assert Track.objects.count() == 0


def test_ensure_catalog_does_nothing_when_a_catalog_exists(
    catalog: ImportReport, no_download: object
) -> None:
    assert "nothing to import" in run("ensure_catalog")
    no_download.assert_not_called()  # type: ignore[attr-defined]


def test_generated_benchmark_file_imports(tmp_path: Path) -> None:
    out_dir = tmp_path / "bench"
    run("generate_fma_benchmark", str(out_dir), "--tracks", "300", "--words-from", "/nonexistent")
    lines = (out_dir / "tracks.csv").read_text().splitlines()
    assert lines[0].startswith(",album,album")
    assert len(lines[1].split(",")) == 53  # the index + 52 official columns
    assert lines[2].startswith("track_id,")
    output = run("import_fma", str(out_dir))
    assert "created 300, updated 0, skipped 0" in output
    assert Track.objects.count() == 300


def test_bench_search_prints_percentiles(catalog: ImportReport) -> None:
    output = run("bench_search", "--queries", "40")
    assert "p50" in output and "p95" in output and "p99" in output
    assert "misspelling" in output
