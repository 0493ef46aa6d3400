"""The FMA importer on official-format fixtures (tests/fixtures/fma)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

import pytest

from apps.catalog import fma
from apps.catalog.models import UNKNOWN_ARTIST_NAME, Album, Artist, Genre, Track
from apps.catalog.services import ImportReport, catalog_import_fma

pytestmark = pytest.mark.django_db


def test_reads_the_multi_level_headers(catalog: ImportReport) -> None:
    food = Track.objects.select_related("artist", "album", "genre_top").get(id=2)
    assert food.title == "Food"
    assert food.artist.name == "AWOL"
    assert food.artist.fma_id == 1
    assert food.artist.location == "New Jersey"
    assert food.album is not None and food.album.title == "AWOL - A Way Of Life"
    assert food.album.fma_id == 1
    assert food.duration == 168
    assert (food.listens, food.favorites, food.interest) == (1293, 2, 4656)
    assert food.genre_top is not None and food.genre_top.title == "Hip-Hop"
    assert food.tags == ["awol", "nj"]
    assert food.date_created == datetime(2008, 11, 26, 1, 48, 12, tzinfo=UTC)
    assert food.year == 2008
    assert food.license.startswith("Attribution-NonCommercial")


def test_genres_all_become_the_track_genres(catalog: ImportReport) -> None:
    # genres_all = [25, 12]: Punk and its parent Rock.
    assert set(Track.objects.get(id=20).genres.values_list("title", flat=True)) == {"Punk", "Rock"}


def test_genre_taxonomy_keeps_parents_and_top_levels(catalog: ImportReport) -> None:
    punk = Genre.objects.get(id=25)
    assert punk.parent_id == 12
    assert punk.top_level_id == 12
    assert Genre.objects.get(id=12).parent_id is None
    assert catalog.genres == 6


def test_echonest_features_are_joined_by_track_id(catalog: ImportReport) -> None:
    freeway = Track.objects.get(id=10)
    assert freeway.danceability == pytest.approx(0.80)
    assert freeway.tempo == pytest.approx(120.0)
    assert freeway.has_audio_features
    assert not Track.objects.get(id=3).has_audio_features


def test_bad_rows_are_reported_and_skipped(catalog: ImportReport) -> None:
    reasons = {reject.track_id: reject.reason for reject in catalog.rejects}
    assert reasons == {"48": "track.duration: not a number", "49": "track.title: missing"}
    assert catalog.skipped == 2
    assert not Track.objects.filter(id__in=[48, 49]).exists()
    # The bad rows' artist was not created either: nothing half-written.
    assert not Artist.objects.filter(name="Broken Records").exists()


def test_missing_artist_becomes_unknown_artist(catalog: ImportReport) -> None:
    nameless = Track.objects.select_related("artist").get(id=46)
    assert nameless.artist.name == UNKNOWN_ARTIST_NAME
    assert nameless.artist.fma_id is None
    assert nameless.tags == []
    assert list(nameless.genres.all()) == []
    assert nameless.listens == 0


def test_reimport_updates_and_never_duplicates(catalog: ImportReport, fma_dir: Path) -> None:
    assert (catalog.created, catalog.updated) == (7, 0)
    Track.objects.filter(id=2).update(title="Edited by hand", listens=1)
    again = catalog_import_fma(path=fma_dir)
    assert (again.created, again.updated, again.skipped) == (0, 7, 2)
    assert Track.objects.count() == 7
    assert Artist.objects.count() == 6  # five FMA artists + Unknown artist, once each
    assert Album.objects.count() == 3
    assert Track.genres.through.objects.filter(track_id=20).count() == 2
    restored = Track.objects.get(id=2)
    assert (restored.title, restored.listens) == ("Food", 1293)


def test_minus_one_means_no_album(db: None, fma_dir: Path, tmp_path: Path) -> None:
    """FMA writes album.id -1 for a track without an album; that is not an error."""
    for name in ("genres.csv", "echonest.csv"):
        shutil.copy(fma_dir / name, tmp_path / name)
    lines = (fma_dir / "tracks.csv").read_text().splitlines()
    header, rows = lines[:3], [line for line in lines[3:] if line.startswith("3,")]
    columns = rows[0].split(",")
    official_columns = list(zip(*[h.split(",")[1:] for h in header[:2]], strict=True))
    album_id_column = 1 + official_columns.index(("album", "id"))
    columns[album_id_column] = "-1"
    (tmp_path / "tracks.csv").write_text("\n".join([*header, ",".join(columns)]) + "\n")
    report = catalog_import_fma(path=tmp_path)
    assert report.rejects == []
    assert Track.objects.get(id=3).album is None


def test_raw_genres_stand_in_for_genres_csv(fma_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "raw_genres.csv").write_text(
        "genre_id,genre_color,genre_handle,genre_parent_id,genre_title\n"
        "12,#000,Rock,,Rock\n25,#111,Punk,12,Punk\n"
    )
    genres = {g.id: g for g in fma.read_genres(tmp_path)}
    assert genres[25].parent_id == 12 and genres[25].top_level_id == 12
    assert genres[12].parent_id is None


def test_accepts_the_parent_of_an_unzipped_archive(fma_dir: Path, tmp_path: Path) -> None:
    shutil.copytree(fma_dir, tmp_path / "fma_metadata")
    assert fma.find_metadata_dir(tmp_path) == tmp_path / "fma_metadata"
    with pytest.raises(fma.MetadataNotFound):
        fma.find_metadata_dir(tmp_path / "nowhere")


def test_progress_is_reported(db: None, fma_dir: Path) -> None:
    calls: list[tuple[int, int]] = []
    catalog_import_fma(
        path=fma_dir, batch_size=3, progress=lambda done, total: calls.append((done, total))
    )
    assert calls[0] == (0, 7)
    assert calls[-1] == (7, 7)
    assert len(calls) == 4  # start + three batches of at most 3


def test_a_batch_the_database_refuses_is_retried_row_by_row(db: None, fma_dir: Path) -> None:
    """One bad row in a batch costs that row only: the rest of the batch is written."""
    from django.db import DatabaseError

    from apps.catalog import services

    real_save = services._save_tracks

    def refuse_track_10(tracks: list[Track], links: list[tuple[int, list[int]]]) -> tuple[int, int]:
        if any(track.id == 10 for track in tracks):
            raise DatabaseError("value out of range")
        return real_save(tracks, links)

    with mock.patch.object(services, "_save_tracks", side_effect=refuse_track_10):
        report = catalog_import_fma(path=fma_dir)
    assert report.created == 6
    assert ("10", "database refused the row: value out of range") in {
        (r.track_id, r.reason) for r in report.rejects
    }
    assert not Track.objects.filter(id=10).exists()
    assert Track.objects.filter(id=2).exists()
