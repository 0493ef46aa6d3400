"""The generic folder reader, its errors, the public dataset readers and the event-row hook."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from apps.recommend.engine.evaluation.readers import (
    DatasetFormatError,
    load_dataset,
    read_event_rows,
    read_generic_folder,
)
from tests.conftest import SHARED_DATA


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_generic_folder_reads_interactions_users_and_items(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "interactions.csv",
        "user_id,item_id,weight,timestamp\n"
        "alice,t1,1,100\n"
        "alice,t2,2.5,2024-01-02T03:04:05+00:00\n"
        "bob,t1,1,\n",
    )
    _write(tmp_path, "users.csv", "user_id,age,gender,country\nalice,31,F,de\nbob,,,\n")
    _write(
        tmp_path,
        "items.csv",
        "item_id,title,artist,genres,tags,year\n"
        't1,Song,Band,Rock|Indie,"loud | fast",1999\n'
        "t2,Other,Band,Rock,,\n"
        "t3,Unplayed,Solo,Jazz,,2001\n",
    )
    loaded = read_generic_folder(tmp_path)
    ds = loaded.dataset
    assert ds.listener_ids.tolist() == ["alice", "bob"]
    assert ds.track_ids.tolist() == ["t1", "t2", "t3"]  # metadata-only items join the catalog
    assert ds.weight.tolist() == [1.0, 2.5, 1.0]
    assert ds.timestamp[1] == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()
    assert ds.listeners is not None and ds.tracks is not None
    assert ds.listeners.age[0] == 31 and math.isnan(ds.listeners.age[1])
    assert ds.listeners.gender.tolist() == ["f", ""]
    assert ds.listeners.country[0] == "DE"
    assert ds.tracks.artist.tolist() == [0, 0, 1]
    assert [loaded.genre_names[g] for g in ds.tracks.genres[0]] == ["Rock", "Indie"]
    assert ds.tracks.tags[0] == ["loud", "fast"]
    assert ds.tracks.year.tolist() == [1999, 0, 2001]
    assert loaded.titles == ["Song", "Other", "Unplayed"]
    assert any("Too small" in note for note in loaded.notes)


def test_missing_interactions_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(DatasetFormatError, match=r"interactions\.csv: missing file"):
        read_generic_folder(tmp_path)


def test_bad_header_names_the_file_and_line_1(tmp_path: Path) -> None:
    path = _write(tmp_path, "interactions.csv", "user,item_id,weight\nu,i,1\n")
    with pytest.raises(DatasetFormatError) as err:
        read_generic_folder(tmp_path)
    assert err.value.path == str(path) and err.value.line == 1
    assert "missing column(s) ['user_id']" in str(err.value)


def test_non_numeric_weight_names_the_line(tmp_path: Path) -> None:
    _write(tmp_path, "interactions.csv", "user_id,item_id,weight\nu,i,1\nu,j,lots\n")
    with pytest.raises(DatasetFormatError, match=r"interactions\.csv, line 3: weight 'lots'"):
        read_generic_folder(tmp_path)


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"interactions.csv": "user_id,item_id,weight\nu,i,0\n"},
            r"line 2: weight '0' must be > 0",
        ),
        ({"interactions.csv": "user_id,item_id,weight\nu,i\n"}, r"line 2: expected 3 fields"),
        ({"interactions.csv": "user_id,item_id,weight\n,i,1\n"}, r"line 2: user_id and item_id"),
        (
            {"interactions.csv": "user_id,item_id,weight,timestamp\nu,i,1,yesterday\n"},
            r"line 2: timestamp 'yesterday'",
        ),
        ({"interactions.csv": ""}, r"line 1: file is empty"),
        (
            {"interactions.csv": "user_id,item_id,weight\nu,i,1\n", "users.csv": "user_id,shoe\n"},
            r"users\.csv, line 1: bad header: unknown column\(s\) \['shoe'\]",
        ),
        (
            {
                "interactions.csv": "user_id,item_id,weight\nu,i,1\n",
                "users.csv": "user_id,age\nu,old\n",
            },
            r"users\.csv, line 2: age 'old' is not a number",
        ),
        (
            {
                "interactions.csv": "user_id,item_id,weight\nu,i,1\n",
                "items.csv": "item_id,year\ni,1999\nj,nineties\n",
            },
            r"items\.csv, line 3: year 'nineties' is not an integer",
        ),
    ],
)
def test_malformed_files_are_rejected(tmp_path: Path, files: dict[str, str], message: str) -> None:
    for name, text in files.items():
        _write(tmp_path, name, text)
    with pytest.raises(DatasetFormatError, match=message):
        read_generic_folder(tmp_path)


def test_event_rows_hook() -> None:
    when = datetime(2025, 5, 1, tzinfo=UTC)
    loaded = read_event_rows(
        events=[(1, 10, 1.0, when), (1, 11, -1.0, when), (2, 10, 2.0, None)],
        listeners=[{"listener_id": 1, "age": 30, "gender": "female", "country": "fr"}],
        tracks=[{"track_id": 10, "artist": "A", "genres": ["Rock"], "year": 2001}],
    )
    ds = loaded.dataset
    assert ds.n_interactions == 2  # the remove (weight -1) is dropped
    assert ds.listener_ids.tolist() == ["1", "2"]
    assert ds.timestamp.tolist() == [when.timestamp(), 0.0]
    assert ds.listeners is not None and ds.listeners.gender.tolist() == ["f", ""]
    assert ds.listeners.country[0] == "FR"
    assert ds.tracks is not None and ds.tracks.year[0] == 2001


def test_unknown_dataset_name_is_read_as_a_folder(tmp_path: Path) -> None:
    with pytest.raises(DatasetFormatError, match="not a folder"):
        load_dataset(str(tmp_path / "nope"), tmp_path)
    with pytest.raises(ValueError, match="database"):
        load_dataset("events", tmp_path)


@pytest.mark.shared_data
def test_movielens_100k() -> None:
    loaded = load_dataset("ml-100k", SHARED_DATA)
    ds = loaded.dataset
    assert (ds.n_listeners, ds.n_tracks, ds.n_interactions) == (943, 1682, 100_000)
    assert ds.listener_ids[0] == "196" and ds.track_ids[0] == "242"  # u.data order kept
    assert ds.listeners is not None and ds.tracks is not None
    first = int(np.flatnonzero(ds.listener_ids == "1")[0])
    assert (ds.listeners.age[first], ds.listeners.gender[first]) == (24, "m")
    assert ds.listeners.occupation[first] == "technician"
    toy_story = int(np.flatnonzero(ds.track_ids == "1")[0])
    names = [loaded.genre_names[g] for g in ds.tracks.genres[toy_story]]
    assert names == ["Animation", "Children's", "Comedy"]
    assert ds.tracks.year[toy_story] == 1995
    assert loaded.positive_threshold == 4.0


def _movielens_fixture(folder: Path, user_line: str = "1|24|M|technician|85711") -> Path:
    """Two ratings, one user, two movies in MovieLens 100K's own files."""
    folder.mkdir()
    (folder / "u.data").write_text("1\t2\t5\t881250949\n1\t1\t3\t881250950\n")
    (folder / "u.user").write_text(user_line + "\n", encoding="latin-1")
    flags = ["0"] * 19
    toy, golden = list(flags), list(flags)
    toy[3] = toy[4] = "1"  # Animation, Children's
    golden[1] = "1"  # Action
    (folder / "u.item").write_text(
        f"1|Toy Story (1995)|01-Jan-1995||http://x|{'|'.join(toy)}\n"
        f"2|GoldenEye (1995)|01-Jan-1995||http://x|{'|'.join(golden)}\n",
        encoding="latin-1",
    )
    return folder


def test_movielens_100k_files_from_a_fixture(tmp_path: Path) -> None:
    loaded = load_dataset("ml-100k", _movielens_fixture(tmp_path / "movielens-100k").parent)
    ds = loaded.dataset
    assert list(ds.track_ids) == ["2", "1"]  # u.data's first-seen order
    assert ds.weight.tolist() == [5.0, 3.0]
    assert ds.listeners is not None and ds.tracks is not None
    assert (ds.listeners.age[0], ds.listeners.gender[0]) == (24, "m")
    toy_story = int(np.flatnonzero(ds.track_ids == "1")[0])
    assert [loaded.genre_names[g] for g in ds.tracks.genres[toy_story]] == [
        "Animation",
        "Children's",
    ]
    assert ds.tracks.year[toy_story] == 1995


def test_movielens_100k_bad_line_names_file_and_line(tmp_path: Path) -> None:
    _movielens_fixture(tmp_path / "movielens-100k", user_line="1|24|M")
    with pytest.raises(DatasetFormatError, match=r"u\.user, line 1: expected 5 '\|'-separated"):
        load_dataset("ml-100k", tmp_path)


@pytest.mark.shared_data
def test_lastfm_samples_are_flagged_when_too_small() -> None:
    lfm1b = load_dataset("lfm-1b", SHARED_DATA)
    assert lfm1b.dataset.n_interactions > 0
    assert any("Too small" in note for note in lfm1b.notes)  # 17 listeners
    lastfm = load_dataset("lastfm-360k", SHARED_DATA)
    assert lastfm.dataset.n_listeners == 205
    assert any("sparse" in note for note in lastfm.notes)
