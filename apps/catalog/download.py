"""Fetching the official ``fma_metadata.zip`` (the URL and checksum FMA's README documents)."""

from __future__ import annotations

import hashlib
import shutil
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

FMA_METADATA_URL = "https://os.unil.cloud.switch.ch/fma/fma_metadata.zip"
FMA_METADATA_SHA1 = "f0df49ffe5f2a6008d7dc83c6915b31835dfe733"
CHUNK_BYTES = 1 << 20
CONNECT_TIMEOUT_S = 10

ProgressCallback = Callable[[int, int | None], None]


class DownloadFailed(Exception):
    """The archive could not be fetched or did not match its published checksum."""


def download_fma_metadata(
    target_dir: Path,
    *,
    progress: ProgressCallback | None = None,
    url: str | None = None,
    sha1: str | None = None,
) -> Path:
    """Download, verify and unzip ``fma_metadata.zip`` under ``target_dir``; returns the folder.

    Skips the download when a verified archive is already there. ``url`` and ``sha1`` default
    to the official archive (read at call time, so tests can point them at a local server).
    """
    url = FMA_METADATA_URL if url is None else url
    sha1 = (FMA_METADATA_SHA1 if sha1 is None else sha1).lower()
    # urlopen also reads file: and ftp: addresses; only the first address is checked (a
    # redirect could still lead elsewhere), but whatever arrives must match the checksum.
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise DownloadFailed(f"not an http(s) address: {url}")
    target_dir.mkdir(parents=True, exist_ok=True)
    archive = target_dir / "fma_metadata.zip"
    if not (archive.is_file() and _sha1(archive) == sha1):
        partial = archive.with_suffix(".zip.part")
        try:
            with (
                urllib.request.urlopen(url, timeout=CONNECT_TIMEOUT_S) as response,  # noqa: S310 - scheme checked above
                partial.open("wb") as out,
            ):
                total = int(response.headers.get("Content-Length") or 0) or None
                done = 0
                while chunk := response.read(CHUNK_BYTES):
                    out.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            partial.unlink(missing_ok=True)
            raise DownloadFailed(f"could not download {url}: {error}") from error
        digest = _sha1(partial)
        if digest != sha1:
            partial.unlink(missing_ok=True)
            raise DownloadFailed(f"checksum mismatch: got sha1 {digest}, expected {sha1}")
        shutil.move(partial, archive)
    with zipfile.ZipFile(archive) as bundle:
        bundle.extractall(target_dir)
    return target_dir / "fma_metadata"


def _sha1(path: Path) -> str:
    digest = hashlib.sha1()  # noqa: S324 - FMA publishes SHA-1 checksums
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()
