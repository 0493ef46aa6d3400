"""Reading the official FMA metadata layout (``fma_metadata.zip``) into plain records.

Nothing here touches the database: :mod:`apps.catalog.services` writes what this returns.
The files and their headers:

- ``tracks.csv``: two header rows (``album``/``artist``/``set``/``track`` x field) plus a third
  naming the index (``track_id``); read with ``header=[0, 1], index_col=0``. Artist and album
  fields repeat on every track row.
- ``genres.csv``: ``genre_id,#tracks,parent,title,top_level`` (``parent`` 0 = top level).
- ``echonest.csv``: three header rows plus the index row; read with ``header=[0, 1, 2]``.
- ``raw_genres.csv``: used for the taxonomy when ``genres.csv`` is missing.

Bad rows become :class:`Reject` records (track id + reason) instead of stopping the read.

pandas is imported inside the readers: the web process imports this module (through the admin
and the import task) but only an import reads files, and pandas costs tens of MB per worker.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apps.catalog.models import AUDIO_FEATURES

if TYPE_CHECKING:
    import pandas as pd

TRACKS_FILE = "tracks.csv"
GENRES_FILE = "genres.csv"
RAW_GENRES_FILE = "raw_genres.csv"
ECHONEST_FILE = "echonest.csv"

# Lengths of the model's CharFields: longer values are cut rather than failing the batch.
MAX_TITLE = 500
MAX_NAME = 500
MAX_URL = 1000
MAX_LICENSE = 300
MAX_ALBUM_TYPE = 50
MAX_POSITIVE_INT = 2_147_483_647
YEAR_RANGE = (1900, 2100)

_INT_LIST = re.compile(r"\d+")
_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


class MetadataNotFound(FileNotFoundError):
    """The folder does not hold an official-layout ``tracks.csv``."""


@dataclass(frozen=True, slots=True)
class Reject:
    track_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class GenreRecord:
    id: int
    title: str
    parent_id: int | None
    top_level_id: int | None
    track_count: int


@dataclass(slots=True)
class ArtistRecord:
    fma_id: int
    name: str
    location: str = ""
    website: str = ""


@dataclass(slots=True)
class AlbumRecord:
    fma_id: int
    title: str
    artist_fma_id: int | None
    album_type: str = ""
    date_released: date | None = None


@dataclass(slots=True)
class TrackRecord:
    id: int
    title: str
    artist_fma_id: int | None  # None: the explicit "Unknown artist"
    album_fma_id: int | None
    duration: int | None
    genre_top: str
    genre_ids: list[int]
    tags: list[str]
    date_created: datetime | None
    year: int | None
    listens: int
    favorites: int
    interest: int
    license: str
    features: dict[str, float] = field(default_factory=dict)


@dataclass(slots=True)
class TracksFile:
    tracks: list[TrackRecord]
    artists: dict[int, ArtistRecord]
    albums: dict[int, AlbumRecord]
    rejects: list[Reject]


def find_metadata_dir(path: str | Path) -> Path:
    """The folder holding ``tracks.csv``: ``path`` itself or its ``fma_metadata/`` child."""
    base = Path(path).expanduser()
    for candidate in (base, base / "fma_metadata"):
        if (candidate / TRACKS_FILE).is_file():
            return candidate
    raise MetadataNotFound(f"no {TRACKS_FILE} in {base} (nor in {base / 'fma_metadata'})")


# --- genres -----------------------------------------------------------------------------------


def read_genres(directory: Path) -> list[GenreRecord]:
    """The taxonomy from ``genres.csv``, else from ``raw_genres.csv``; empty when neither exists."""
    import pandas as pd

    if (directory / GENRES_FILE).is_file():
        frame = pd.read_csv(directory / GENRES_FILE, dtype=str, keep_default_na=False)
        frame = frame.rename(columns={"#tracks": "tracks"})
        records = []
        for row in frame.itertuples(index=False):
            values = row._asdict()
            genre_id = _to_int(values.get("genre_id"))
            if genre_id is None:
                continue
            parent = _to_int(values.get("parent")) or None
            top = _to_int(values.get("top_level")) or None
            records.append(
                GenreRecord(
                    id=genre_id,
                    title=str(values.get("title", "")).strip()[:200] or f"Genre {genre_id}",
                    parent_id=parent,
                    top_level_id=top,
                    track_count=_to_int(values.get("tracks")) or 0,
                )
            )
        return records
    if (directory / RAW_GENRES_FILE).is_file():
        return _read_raw_genres(directory / RAW_GENRES_FILE)
    return []


def _read_raw_genres(path: Path) -> list[GenreRecord]:
    import pandas as pd

    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    parents: dict[int, int | None] = {}
    titles: dict[int, str] = {}
    for row in frame.itertuples(index=False):
        genre_id = _to_int(row.genre_id)
        if genre_id is None:
            continue
        parents[genre_id] = _to_int(row.genre_parent_id) or None
        titles[genre_id] = str(row.genre_title).strip()[:200] or f"Genre {genre_id}"

    def top_of(genre_id: int) -> int:
        seen = set()
        while (parent := parents.get(genre_id)) and parent in parents and genre_id not in seen:
            seen.add(genre_id)
            genre_id = parent
        return genre_id

    return [
        GenreRecord(id=g, title=titles[g], parent_id=p, top_level_id=top_of(g), track_count=0)
        for g, p in parents.items()
    ]


# --- echonest ---------------------------------------------------------------------------------


def read_echonest(directory: Path) -> dict[int, dict[str, float]]:
    """``{track_id: {feature: value}}`` from ``echonest.csv``'s audio_features block."""
    import pandas as pd

    path = directory / ECHONEST_FILE
    if not path.is_file():
        return {}
    frame = pd.read_csv(path, index_col=0, header=[0, 1, 2], low_memory=False)
    columns = {
        name: ("echonest", "audio_features", name)
        for name in AUDIO_FEATURES
        if ("echonest", "audio_features", name) in frame.columns
    }
    if not columns:
        return {}
    ids = pd.to_numeric(pd.Series(frame.index), errors="coerce")
    values = {
        name: pd.to_numeric(frame[col], errors="coerce").to_numpy() for name, col in columns.items()
    }
    out: dict[int, dict[str, float]] = {}
    for position, track_id in enumerate(ids.to_numpy()):
        if math.isnan(track_id):
            continue
        features = {
            name: float(column[position])
            for name, column in values.items()
            if not math.isnan(column[position])
        }
        if features:
            out[int(track_id)] = features
    return out


# --- tracks -----------------------------------------------------------------------------------

_NUMERIC = {
    "duration": ("track", "duration"),
    "listens": ("track", "listens"),
    "favorites": ("track", "favorites"),
    "interest": ("track", "interest"),
    "artist_id": ("artist", "id"),
    "album_id": ("album", "id"),
}
_TEXT = {
    "title": ("track", "title"),
    "genre_top": ("track", "genre_top"),
    "genres": ("track", "genres"),
    "genres_all": ("track", "genres_all"),
    "tags": ("track", "tags"),
    "license": ("track", "license"),
    "artist_name": ("artist", "name"),
    "artist_location": ("artist", "location"),
    "artist_website": ("artist", "website"),
    "album_title": ("album", "title"),
    "album_type": ("album", "type"),
}
_DATES = {
    "date_created": ("track", "date_created"),
    "date_recorded": ("track", "date_recorded"),
    "album_released": ("album", "date_released"),
}


def read_tracks(directory: Path, echonest: dict[int, dict[str, float]] | None = None) -> TracksFile:
    """Parse ``tracks.csv``: valid rows become records, bad ones :class:`Reject` s."""
    import pandas as pd

    frame = pd.read_csv(
        directory / TRACKS_FILE,
        index_col=0,
        header=[0, 1],
        dtype=str,
        keep_default_na=False,
        na_values=[""],
        on_bad_lines="warn",
    )
    count = len(frame)
    raw_ids = pd.Series(frame.index, dtype="object")
    ids = pd.to_numeric(raw_ids, errors="coerce")
    rejects: list[Reject] = []
    bad = pd.Series(False, index=range(count))
    reasons: list[str | None] = [None] * count

    def flag(mask: Any, reason: str) -> None:
        for position in mask[mask & ~bad].index:
            reasons[position] = reason
        bad.loc[mask] = True

    flag(ids.isna() | (ids < 0) | (ids % 1 != 0), "track_id: not a whole number")
    numeric: dict[str, list[float]] = {}
    for name, column in _NUMERIC.items():
        raw = _column(frame, column)
        values = pd.to_numeric(raw, errors="coerce")
        flag(raw.notna() & values.isna(), f"{column[0]}.{column[1]}: not a number")
        flag(values > MAX_POSITIVE_INT, f"{column[0]}.{column[1]}: out of range")
        # FMA writes -1 for "none" (a track without an album has album.id -1).
        numeric[name] = values.where(values >= 0).tolist()
    text = {name: _column(frame, column).tolist() for name, column in _TEXT.items()}
    titles = text["title"]
    flag(pd.Series([not _clean(t) for t in titles]), "track.title: missing")
    dates = {
        name: pd.to_datetime(_column(frame, column), format=_DATE_FORMAT, errors="coerce").tolist()
        for name, column in _DATES.items()
    }

    echonest = echonest or {}
    tracks: list[TrackRecord] = []
    artists: dict[int, ArtistRecord] = {}
    albums: dict[int, AlbumRecord] = {}
    seen: set[int] = set()
    id_list = ids.tolist()
    for i in range(count):
        if reasons[i] is not None:
            rejects.append(Reject(track_id=str(raw_ids.iloc[i]), reason=reasons[i] or ""))
            continue
        track_id = int(id_list[i])
        if track_id in seen:
            rejects.append(
                Reject(track_id=str(track_id), reason="duplicate track_id (kept the first)")
            )
            continue
        seen.add(track_id)
        artist_id = _opt_int(numeric["artist_id"][i])
        artist_name = _clean(text["artist_name"][i])[:MAX_NAME]
        if artist_id is not None and artist_id not in artists:
            artists[artist_id] = ArtistRecord(
                fma_id=artist_id,
                name=artist_name or f"Artist {artist_id}",
                location=_clean(text["artist_location"][i])[:MAX_NAME],
                website=_clean(text["artist_website"][i])[:MAX_URL],
            )
        album_id = _opt_int(numeric["album_id"][i])
        released = _opt_datetime(dates["album_released"][i])
        if album_id is not None and album_id not in albums:
            albums[album_id] = AlbumRecord(
                fma_id=album_id,
                title=_clean(text["album_title"][i])[:MAX_TITLE] or f"Album {album_id}",
                artist_fma_id=artist_id,
                album_type=_clean(text["album_type"][i])[:MAX_ALBUM_TYPE],
                date_released=released.date() if released else None,
            )
        created = _opt_datetime(dates["date_created"][i])
        recorded = _opt_datetime(dates["date_recorded"][i])
        tracks.append(
            TrackRecord(
                id=track_id,
                title=_clean(titles[i])[:MAX_TITLE],
                artist_fma_id=artist_id,
                album_fma_id=album_id,
                duration=_opt_int(numeric["duration"][i]),
                genre_top=_clean(text["genre_top"][i]),
                genre_ids=_int_list(text["genres_all"][i]) or _int_list(text["genres"][i]),
                tags=_str_list(text["tags"][i]),
                date_created=created,
                year=_year(recorded, released, created),
                listens=_opt_int(numeric["listens"][i]) or 0,
                favorites=_opt_int(numeric["favorites"][i]) or 0,
                interest=_opt_int(numeric["interest"][i]) or 0,
                license=_clean(text["license"][i])[:MAX_LICENSE],
                features=echonest.get(track_id, {}),
            )
        )
    return TracksFile(tracks=tracks, artists=artists, albums=albums, rejects=rejects)


def _column(frame: pd.DataFrame, column: tuple[str, str]) -> pd.Series:
    import pandas as pd

    if column in frame.columns:
        return frame[column].reset_index(drop=True)
    return pd.Series([None] * len(frame), dtype="object")


def _clean(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _to_int(value: Any) -> int | None:
    try:
        return int(float(str(value).strip()))
    except (TypeError, ValueError):
        return None


def _opt_int(value: float) -> int | None:
    if value is None or math.isnan(value):
        return None
    return int(value)


def _opt_datetime(value: Any) -> datetime | None:
    if value is None or value != value:  # NaT and NaN are the values unequal to themselves
        return None
    result: datetime = value.to_pydatetime().replace(tzinfo=UTC)
    return result


def _year(*candidates: datetime | None) -> int | None:
    for candidate in candidates:
        if candidate is not None and YEAR_RANGE[0] <= candidate.year <= YEAR_RANGE[1]:
            return candidate.year
    return None


def _int_list(value: Any) -> list[int]:
    text = _clean(value)
    return [int(match) for match in _INT_LIST.findall(text)] if text else []


def _str_list(value: Any) -> list[str]:
    """FMA writes lists as Python literals (``['rock', 'live']``); anything else is no tags."""
    text = _clean(value)
    if not text or text == "[]":
        return []
    try:
        parsed = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return []
    if not isinstance(parsed, Iterable) or isinstance(parsed, str | bytes):
        return []
    return [str(item).strip() for item in parsed if str(item).strip()]
