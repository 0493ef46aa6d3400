"""The official-archive download, against a local HTTP server serving a small fma_metadata.zip."""

from __future__ import annotations

import hashlib
import http.server
import io
import re
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command

from apps.catalog import download
from apps.catalog.download import DownloadFailed, download_fma_metadata
from apps.catalog.models import Track

FMA_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "fma"


def _archive_bytes() -> bytes:
    """The fixture catalog zipped as the official archive is: under ``fma_metadata/``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for path in sorted(FMA_FIXTURES.iterdir()):
            bundle.write(path, f"fma_metadata/{path.name}")
    return buffer.getvalue()


@dataclass
class ArchiveServer:
    url: str
    body: bytes
    sha1: str
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def archive_server() -> Iterator[ArchiveServer]:
    body = _archive_bytes()
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:  # keep the test output quiet
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ArchiveServer(
            url=f"http://127.0.0.1:{server.server_port}/fma_metadata.zip",
            body=body,
            sha1=hashlib.sha1(body).hexdigest(),  # noqa: S324 - FMA publishes SHA-1
            requests=requests,
        )
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def official_archive_served_by(
    server: ArchiveServer, command: str, download_dir: Path
) -> Iterator[None]:
    """The commands fetch "the official archive" from ``server`` into ``download_dir``."""
    with (
        mock.patch.object(download, "FMA_METADATA_URL", server.url),
        mock.patch.object(download, "FMA_METADATA_SHA1", server.sha1),
        mock.patch(f"apps.catalog.management.commands.{command}.DOWNLOAD_DIR", download_dir),
    ):
        yield


def test_downloads_verifies_and_unzips(tmp_path: Path, archive_server: ArchiveServer) -> None:
    seen: list[tuple[int, int | None]] = []
    folder = download_fma_metadata(
        tmp_path,
        progress=lambda done, total: seen.append((done, total)),
        url=archive_server.url,
        sha1=archive_server.sha1,
    )
    assert folder == tmp_path / "fma_metadata"
    assert (folder / "tracks.csv").read_bytes() == (FMA_FIXTURES / "tracks.csv").read_bytes()
    assert seen[-1] == (len(archive_server.body), len(archive_server.body))
    assert not (tmp_path / "fma_metadata.zip.part").exists()


def test_a_verified_archive_is_not_fetched_again(
    tmp_path: Path, archive_server: ArchiveServer
) -> None:
    (tmp_path / "fma_metadata.zip").write_bytes(archive_server.body)
    folder = download_fma_metadata(tmp_path, url=archive_server.url, sha1=archive_server.sha1)
    assert archive_server.requests == []
    assert (folder / "genres.csv").is_file()


def test_a_corrupt_archive_on_disk_is_fetched_again(
    tmp_path: Path, archive_server: ArchiveServer
) -> None:
    (tmp_path / "fma_metadata.zip").write_bytes(b"truncated")
    download_fma_metadata(tmp_path, url=archive_server.url, sha1=archive_server.sha1)
    assert archive_server.requests == ["/fma_metadata.zip"]
    assert (tmp_path / "fma_metadata.zip").read_bytes() == archive_server.body


def test_checksum_mismatch_keeps_nothing(tmp_path: Path, archive_server: ArchiveServer) -> None:
    with pytest.raises(DownloadFailed, match="checksum mismatch"):
        download_fma_metadata(tmp_path, url=archive_server.url, sha1="0" * 40)
    assert list(tmp_path.iterdir()) == []


def test_unreachable_server_is_a_clear_failure(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/fma_metadata.zip"
    with pytest.raises(DownloadFailed, match=re.escape(f"could not download {url}")):
        download_fma_metadata(tmp_path, url=url, sha1="0" * 40)
    assert not (tmp_path / "fma_metadata.zip.part").exists()


def test_a_download_cut_short_keeps_nothing(tmp_path: Path) -> None:
    """The server sends headers and a first chunk, then stalls: the partial file is removed."""

    class Stalling(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            self.wfile.write(b"x" * 100)
            self.wfile.flush()
            time.sleep(2)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stalling)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with (
            mock.patch.object(download, "CONNECT_TIMEOUT_S", 0.3),
            pytest.raises(DownloadFailed, match="could not download"),
        ):
            download_fma_metadata(
                tmp_path, url=f"http://127.0.0.1:{server.server_port}/x.zip", sha1="0" * 40
            )
    finally:
        server.shutdown()
        server.server_close()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.django_db
def test_import_fma_download_imports_the_catalog(
    tmp_path: Path, archive_server: ArchiveServer
) -> None:
    out = StringIO()
    with official_archive_served_by(archive_server, "import_fma", tmp_path):
        call_command("import_fma", "--download", stdout=out)
    assert f"Downloading {archive_server.url}" in out.getvalue()
    assert "created 7, updated 0, skipped 2" in out.getvalue()
    assert Track.objects.count() == 7


def test_only_http_addresses_are_fetched(tmp_path: Path) -> None:
    with pytest.raises(DownloadFailed, match="not an http"):
        download_fma_metadata(tmp_path, url="file:///etc/passwd", sha1="0" * 40)


@pytest.mark.django_db
def test_ensure_catalog_downloads_into_an_empty_site(
    tmp_path: Path, archive_server: ArchiveServer
) -> None:
    out = StringIO()
    with official_archive_served_by(archive_server, "ensure_catalog", tmp_path):
        call_command("ensure_catalog", stdout=out)
        assert f"Downloading {archive_server.url}" in out.getvalue()
        assert Track.objects.count() == 7
        call_command("ensure_catalog", stdout=out)  # a second start finds the catalog
    assert "nothing to import" in out.getvalue()
    assert archive_server.requests == ["/fma_metadata.zip"]
