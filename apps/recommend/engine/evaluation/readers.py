"""Readers that turn evaluation datasets into an engine :class:`Dataset`.

Every reader ends in :func:`build_dataset`, which takes plain rows (ids as strings, weights as
floats) so that files, public datasets and our own event store all share one code path. The
generic folder format is documented in ``docs/evaluation.md``.
"""

from __future__ import annotations

import csv
import logging
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from apps.recommend.engine.dataset import Dataset, ListenerFeatures, TrackFeatures

logger = logging.getLogger(__name__)

#: Named datasets and the folder (under the data root) each one lives in.
DATASET_FOLDERS: dict[str, str] = {
    "ml-100k": "movielens-100k",
    "lastfm-360k": "lastfm-360k-sample",
    "lfm-1b": "lfm-1b",
}
#: Name of the dataset that comes from our own event store (fed by the management command).
EVENTS_DATASET = "events"

#: Below these sizes the numbers of a protocol are too noisy to mean anything.
MIN_USERS_FOR_EVALUATION = 100
MIN_INTERACTIONS_FOR_EVALUATION = 5_000
SPARSE_USERS_PER_ITEM = 3.0

INTERACTION_COLUMNS = ("user_id", "item_id", "weight")
OPTIONAL_INTERACTION_COLUMNS = ("timestamp",)
USER_COLUMNS = ("age", "gender", "country", "occupation")
ITEM_COLUMNS = ("title", "artist", "genres", "tags", "year")
LIST_SEPARATOR = "|"

ML100K_GENRES = (
    "unknown",
    "Action",
    "Adventure",
    "Animation",
    "Children's",
    "Comedy",
    "Crime",
    "Documentary",
    "Drama",
    "Fantasy",
    "Film-Noir",
    "Horror",
    "Musical",
    "Mystery",
    "Romance",
    "Sci-Fi",
    "Thriller",
    "War",
    "Western",
)


class DatasetFormatError(ValueError):
    """A dataset file is malformed; the message names the file and, where known, the line."""

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        where = f"{path}, line {line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.line = line


@dataclass
class UserRow:
    user_id: str
    age: float = math.nan
    gender: str = ""
    country: str = ""
    occupation: str = ""


@dataclass
class ItemRow:
    item_id: str
    title: str = ""
    artist: str = ""
    album: str = ""
    genres: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    year: int = 0
    popularity: float = 0.0


@dataclass
class LoadedDataset:
    """A dataset plus what the protocols need to know about it."""

    name: str
    dataset: Dataset
    #: Interactions with a weight below this are not positives in the strong/cold-start
    #: protocols (Liang et al. keep MovieLens ratings >= 4). ``None`` keeps everything.
    positive_threshold: float | None = None
    genre_names: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        ds = self.dataset
        return (
            f"{self.name}: {ds.n_listeners} listeners, {ds.n_tracks} items, "
            f"{ds.n_interactions} interactions"
        )


InteractionTuple = tuple[str, str, float, float]


def build_dataset(
    interactions: Iterable[InteractionTuple],
    users: Iterable[UserRow] = (),
    items: Iterable[ItemRow] = (),
) -> tuple[Dataset, list[str], list[str]]:
    """Index plain rows into a :class:`Dataset`.

    Listeners are the users that have at least one interaction (users.csv rows without any are
    useless for evaluation); the catalog is every item that has an interaction or a metadata row,
    so a model can rank tracks nobody played yet. Returns the dataset, the genre names (index ->
    name) and the item titles.
    """
    user_index: dict[str, int] = {}
    item_index: dict[str, int] = {}
    u_pos: list[int] = []
    i_pos: list[int] = []
    weights: list[float] = []
    stamps: list[float] = []
    for user_id, item_id, weight, timestamp in interactions:
        u_pos.append(user_index.setdefault(user_id, len(user_index)))
        i_pos.append(item_index.setdefault(item_id, len(item_index)))
        weights.append(weight)
        stamps.append(timestamp)
    item_rows = list(items)
    for row in item_rows:
        item_index.setdefault(row.item_id, len(item_index))

    n_users, n_items = len(user_index), len(item_index)
    listeners = ListenerFeatures.empty(n_users)
    for urow in users:
        pos = user_index.get(urow.user_id)
        if pos is None:
            continue
        listeners.age[pos] = urow.age
        listeners.gender[pos] = urow.gender
        listeners.country[pos] = urow.country
        listeners.occupation[pos] = urow.occupation

    tracks = TrackFeatures.empty(n_items)
    titles = [""] * n_items
    genre_index: dict[str, int] = {}
    artist_index: dict[str, int] = {}
    album_index: dict[str, int] = {}
    for row in item_rows:
        pos = item_index[row.item_id]
        titles[pos] = row.title
        if row.artist:
            tracks.artist[pos] = artist_index.setdefault(row.artist, len(artist_index))
        if row.album:
            tracks.album[pos] = album_index.setdefault(row.album, len(album_index))
        tracks.genres[pos] = [genre_index.setdefault(g, len(genre_index)) for g in row.genres]
        tracks.tags[pos] = list(row.tags)
        tracks.year[pos] = row.year
        tracks.popularity[pos] = row.popularity
    tracks.artist_names = list(artist_index)

    dataset = Dataset(
        listener_ids=np.array(list(user_index), dtype=object),
        track_ids=np.array(list(item_index), dtype=object),
        user=np.asarray(u_pos, dtype=np.int64),
        item=np.asarray(i_pos, dtype=np.int64),
        weight=np.asarray(weights, dtype=np.float32),
        timestamp=np.asarray(stamps, dtype=np.float64),
        listeners=listeners,
        tracks=tracks,
    )
    return dataset, list(genre_index), titles


# --------------------------------------------------------------------------- generic folder


def _open_csv(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (line number, row) from a header CSV; the header is line 1."""
    try:
        handle = path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise DatasetFormatError(path, f"cannot open file ({exc.strerror})") from exc
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise DatasetFormatError(path, "file is empty (a header line is required)", 1) from None
        except (UnicodeDecodeError, csv.Error) as exc:
            raise DatasetFormatError(path, f"unreadable header: {exc}", 1) from None
        names = [h.strip() for h in header]
        try:
            for row in reader:
                line = reader.line_num
                if not row or all(not cell.strip() for cell in row):
                    continue
                if len(row) != len(names):
                    raise DatasetFormatError(
                        path, f"expected {len(names)} fields, found {len(row)}", line
                    )
                yield line, {k: v.strip() for k, v in zip(names, row, strict=True)}
        except (UnicodeDecodeError, csv.Error) as exc:
            raise DatasetFormatError(path, f"unreadable row: {exc}", reader.line_num + 1) from None


def _header(path: Path) -> list[str]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            first = next(csv.reader(handle), None)
    except OSError as exc:
        raise DatasetFormatError(path, f"cannot open file ({exc.strerror})") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DatasetFormatError(path, f"unreadable header: {exc}", 1) from None
    if first is None:
        raise DatasetFormatError(path, "file is empty (a header line is required)", 1)
    return [h.strip() for h in first]


def _check_header(
    path: Path, header: Sequence[str], required: Sequence[str], optional: Sequence[str]
) -> None:
    missing = [c for c in required if c not in header]
    if missing:
        raise DatasetFormatError(
            path,
            f"bad header {list(header)}: missing column(s) {missing}; "
            f"required {list(required)}, optional {list(optional)}",
            1,
        )
    unknown = [c for c in header if c not in required and c not in optional]
    if unknown:
        raise DatasetFormatError(
            path,
            f"bad header: unknown column(s) {unknown}; allowed {list(required) + list(optional)}",
            1,
        )
    dupes = sorted({c for c in header if list(header).count(c) > 1})
    if dupes:
        raise DatasetFormatError(path, f"bad header: duplicate column(s) {dupes}", 1)


def _parse_float(path: Path, line: int, column: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise DatasetFormatError(path, f"{column} {value!r} is not a number", line) from None
    if not math.isfinite(number):
        raise DatasetFormatError(path, f"{column} {value!r} is not a finite number", line)
    return number


def _parse_timestamp(path: Path, line: int, value: str) -> float:
    if value == "":
        return 0.0
    try:
        return float(value)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise DatasetFormatError(
            path, f"timestamp {value!r} is neither epoch seconds nor ISO 8601", line
        ) from None
    if moment.tzinfo is None:
        raise DatasetFormatError(path, f"timestamp {value!r} has no time zone", line)
    return moment.timestamp()


def _split_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]


def _read_generic_interactions(path: Path) -> list[InteractionTuple]:
    header = _header(path)
    _check_header(path, header, INTERACTION_COLUMNS, OPTIONAL_INTERACTION_COLUMNS)
    rows: list[InteractionTuple] = []
    for line, row in _open_csv(path):
        if not row["user_id"] or not row["item_id"]:
            raise DatasetFormatError(path, "user_id and item_id must not be empty", line)
        weight = _parse_float(path, line, "weight", row["weight"])
        if weight <= 0:
            raise DatasetFormatError(path, f"weight {row['weight']!r} must be > 0", line)
        stamp = _parse_timestamp(path, line, row.get("timestamp", ""))
        rows.append((row["user_id"], row["item_id"], weight, stamp))
    if not rows:
        raise DatasetFormatError(path, "no interactions")
    return rows


def _read_generic_users(path: Path) -> list[UserRow]:
    _check_header(path, _header(path), ("user_id",), USER_COLUMNS)
    rows: list[UserRow] = []
    for line, row in _open_csv(path):
        if not row["user_id"]:
            raise DatasetFormatError(path, "user_id must not be empty", line)
        age_text = row.get("age", "")
        age = _parse_float(path, line, "age", age_text) if age_text else math.nan
        rows.append(
            UserRow(
                user_id=row["user_id"],
                age=age,
                gender=_normalise_gender(row.get("gender", "")),
                country=row.get("country", "").upper(),
                occupation=row.get("occupation", "").lower(),
            )
        )
    return rows


def _read_generic_items(path: Path) -> list[ItemRow]:
    _check_header(path, _header(path), ("item_id",), ITEM_COLUMNS)
    rows: list[ItemRow] = []
    for line, row in _open_csv(path):
        if not row["item_id"]:
            raise DatasetFormatError(path, "item_id must not be empty", line)
        year_text = row.get("year", "")
        year = 0
        if year_text:
            try:
                year = int(year_text)
            except ValueError:
                raise DatasetFormatError(
                    path, f"year {year_text!r} is not an integer", line
                ) from None
        rows.append(
            ItemRow(
                item_id=row["item_id"],
                title=row.get("title", ""),
                artist=row.get("artist", ""),
                genres=_split_list(row.get("genres", "")),
                tags=_split_list(row.get("tags", "")),
                year=year,
            )
        )
    return rows


def read_generic_folder(folder: Path | str, name: str | None = None) -> LoadedDataset:
    """Read the generic folder format (see ``docs/evaluation.md``)."""
    root = Path(folder)
    if not root.is_dir():
        raise DatasetFormatError(root, "not a folder")
    interactions_path = root / "interactions.csv"
    if not interactions_path.is_file():
        raise DatasetFormatError(interactions_path, "missing file (interactions.csv is required)")
    interactions = _read_generic_interactions(interactions_path)
    users_path, items_path = root / "users.csv", root / "items.csv"
    users = _read_generic_users(users_path) if users_path.exists() else []
    items = _read_generic_items(items_path) if items_path.exists() else []
    dataset, genres, titles = build_dataset(interactions, users, items)
    loaded = LoadedDataset(
        name=name or root.name, dataset=dataset, genre_names=genres, titles=titles
    )
    _warn_if_small(loaded)
    return loaded


# --------------------------------------------------------------------------- public datasets


def _normalise_gender(value: str) -> str:
    """Map the datasets' spellings to ``"m"``, ``"f"`` or ``""`` (unknown / not given)."""
    lowered = value.strip().lower()
    if lowered in ("m", "male"):
        return "m"
    if lowered in ("f", "female"):
        return "f"
    return ""


def _require(path: Path) -> Path:
    if not path.is_file():
        raise DatasetFormatError(path, "missing file")
    return path


def read_movielens_100k(folder: Path | str) -> LoadedDataset:
    """MovieLens 100K: ``u.data`` ratings in file order, ``u.user`` demographics, ``u.item`` genres.

    File order matters: the MS Recommenders split draws one random number per row in the order
    their loader reads ``u.data``.
    """
    root = Path(folder)
    data_path = _require(root / "u.data")
    interactions: list[InteractionTuple] = []
    with data_path.open(encoding="latin-1") as handle:
        for line_no, line in enumerate(handle, start=1):
            parts = line.split("\t")
            if len(parts) != 4:
                raise DatasetFormatError(data_path, "expected 4 tab-separated fields", line_no)
            interactions.append((parts[0], parts[1], float(parts[2]), float(parts[3])))

    users: list[UserRow] = []
    user_path = root / "u.user"
    if user_path.is_file():
        with user_path.open(encoding="latin-1") as handle:
            for line_no, line in enumerate(handle, start=1):
                parts = line.rstrip("\n").split("|")
                if len(parts) != 5:
                    raise DatasetFormatError(user_path, "expected 5 '|'-separated fields", line_no)
                users.append(
                    UserRow(
                        user_id=parts[0],
                        age=float(parts[1]),
                        gender=_normalise_gender(parts[2]),
                        occupation=parts[3].lower(),
                    )
                )

    items: list[ItemRow] = []
    item_path = root / "u.item"
    if item_path.is_file():
        with item_path.open(encoding="latin-1") as handle:
            for line_no, line in enumerate(handle, start=1):
                parts = line.rstrip("\n").split("|")
                if len(parts) != 5 + len(ML100K_GENRES):
                    raise DatasetFormatError(item_path, "unexpected number of fields", line_no)
                flags = parts[5:]
                release = parts[2]
                year = int(release[-4:]) if len(release) >= 4 and release[-4:].isdigit() else 0
                items.append(
                    ItemRow(
                        item_id=parts[0],
                        title=parts[1],
                        genres=[g for g, f in zip(ML100K_GENRES, flags, strict=True) if f == "1"],
                        year=year,
                    )
                )
    # Keep the catalog in u.data's first-seen order so positions match the interaction order,
    # then append metadata-only items (ML-100K has none).
    dataset, genres, titles = build_dataset(interactions, users, items)
    return LoadedDataset(
        name="ml-100k",
        dataset=dataset,
        positive_threshold=4.0,
        genre_names=genres,
        titles=titles,
        notes=["MovieLens items are movies: no artist, so artist metrics are n/a."],
    )


def read_lastfm_360k(folder: Path | str) -> LoadedDataset:
    """Last.fm 360K sample: items are artists (MusicBrainz id, else the lower-cased name)."""
    root = Path(folder)
    plays_path = _require(root / "usersha1-artmbid-artname-plays.tsv")
    interactions: list[InteractionTuple] = []
    items: dict[str, ItemRow] = {}
    with plays_path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 4:
                raise DatasetFormatError(plays_path, "expected 4 tab-separated fields", line_no)
            user, mbid, artist, plays_text = parts
            try:
                plays = float(plays_text)
            except ValueError:
                raise DatasetFormatError(
                    plays_path, f"plays {plays_text!r} is not a number", line_no
                ) from None
            if plays <= 0:
                continue
            item_id = mbid or f"name:{artist.lower()}"
            items.setdefault(item_id, ItemRow(item_id=item_id, title=artist, artist=item_id))
            interactions.append((user, item_id, plays, 0.0))

    users: list[UserRow] = []
    profile_path = root / "usersha1-profile.tsv"
    if profile_path.is_file():
        with profile_path.open(encoding="utf-8") as handle:
            for line_no, line in enumerate(handle, start=1):
                parts = line.rstrip("\n").split("\t")
                if len(parts) != 5:
                    raise DatasetFormatError(
                        profile_path, "expected 5 tab-separated fields", line_no
                    )
                age = float(parts[2]) if parts[2].strip() else math.nan
                users.append(
                    UserRow(
                        user_id=parts[0],
                        age=age,
                        gender=_normalise_gender(parts[1]),
                        # Full country names here, not ISO codes: the demographic baselines only
                        # compare them for equality, so the spelling does not matter.
                        country=parts[3],
                    )
                )
    dataset, genres, titles = build_dataset(interactions, users, items.values())
    loaded = LoadedDataset(
        name="lastfm-360k",
        dataset=dataset,
        genre_names=genres,
        titles=titles,
        notes=["Items are artists (user top-artist play counts); no timestamps, no genres."],
    )
    _warn_if_small(loaded)
    return loaded


def read_lfm_1b(folder: Path | str) -> LoadedDataset:
    """LFM-1b sample: listening events aggregated to (user, track) play counts."""
    root = Path(folder)
    events_path = _require(root / "LFM-1b_LEs.sample.txt")
    counts: dict[tuple[str, str], list[float]] = {}
    track_meta: dict[str, tuple[str, str]] = {}
    with events_path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            parts = line.split("\t")
            if len(parts) != 5:
                raise DatasetFormatError(events_path, "expected 5 tab-separated fields", line_no)
            user, artist, album, track = parts[0], parts[1], parts[2], parts[3]
            stamp = float(parts[4])
            entry = counts.setdefault((user, track), [0.0, 0.0])
            entry[0] += 1.0
            entry[1] = max(entry[1], stamp)
            track_meta.setdefault(track, (artist, album))
    interactions = [(u, t, n, ts) for (u, t), (n, ts) in counts.items()]

    artist_names: dict[str, str] = {}
    names_path = root / "LFM-1b_artists.sample.txt"
    if names_path.is_file():
        with names_path.open(encoding="utf-8") as handle:
            for line in handle:
                parts = line.rstrip("\n").split("\t")
                if len(parts) >= 2:
                    artist_names[parts[0]] = parts[1]
    genre_names: list[str] = []
    genres_path = root / "genres_allmusic.txt"
    if genres_path.is_file():
        genre_names = [g.strip() for g in genres_path.read_text(encoding="utf-8").splitlines()]
    artist_genres: dict[str, list[str]] = {}
    ag_path = root / "LFM-1b_artist_genres_allmusic.sample.txt"
    if ag_path.is_file() and genre_names:
        with ag_path.open(encoding="utf-8") as handle:
            for line in handle:
                parts = [p for p in line.rstrip("\n").split("\t") if p.strip()]
                if len(parts) >= 2:
                    artist_genres[parts[0]] = [
                        genre_names[int(i)] for i in parts[1:] if i.isdigit()
                    ]
    items = []
    for track, (artist, album) in track_meta.items():
        name = artist_names.get(artist, "")
        items.append(
            ItemRow(item_id=track, artist=artist, album=album, genres=artist_genres.get(name, []))
        )

    users: list[UserRow] = []
    users_path = root / "LFM-1b_users.txt"
    if users_path.is_file():
        with users_path.open(encoding="utf-8") as handle:
            next(handle, None)
            for line in handle:
                parts = line.rstrip("\n").split("\t")
                if len(parts) < 4:
                    continue
                age = float(parts[2]) if parts[2].lstrip("-").isdigit() else math.nan
                users.append(
                    UserRow(
                        user_id=parts[0],
                        age=age if age > 0 else math.nan,
                        gender=_normalise_gender(parts[3]),
                        country=parts[1].upper(),
                    )
                )
    dataset, genres, titles = build_dataset(interactions, users, items)
    loaded = LoadedDataset(
        name="lfm-1b", dataset=dataset, genre_names=genres, titles=titles, notes=[]
    )
    _warn_if_small(loaded)
    return loaded


# --------------------------------------------------------------------------- our event store


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _epoch(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, datetime):
        return value.timestamp()
    return float(value)


def read_event_rows(
    events: Iterable[Sequence[Any]],
    listeners: Iterable[Mapping[str, Any]] = (),
    tracks: Iterable[Mapping[str, Any]] = (),
    name: str = EVENTS_DATASET,
) -> LoadedDataset:
    """Build a dataset from our own event store, fed as plain rows.

    ``events``: ``(listener_id, track_id, weight, timestamp)`` per row; timestamp is a datetime
    or epoch seconds (``None`` = unknown); rows with weight <= 0 (removes, skips) are dropped.
    ``listeners``: mappings with ``listener_id`` and any of ``age, gender, country, occupation``.
    ``tracks``: mappings with ``track_id`` and any of ``title, artist, album, genres, tags, year,
    popularity`` (``genres``/``tags`` as lists).
    """
    interactions: list[InteractionTuple] = []
    for row in events:
        listener_id, track_id, weight, stamp = row
        w = float(weight)
        if w > 0:
            interactions.append((_text(listener_id), _text(track_id), w, _epoch(stamp)))
    users = [
        UserRow(
            user_id=_text(r["listener_id"]),
            age=float(r["age"]) if r.get("age") is not None else math.nan,
            gender=_normalise_gender(_text(r.get("gender"))),
            country=_text(r.get("country")).upper(),
            occupation=_text(r.get("occupation")).lower(),
        )
        for r in listeners
    ]
    items = [
        ItemRow(
            item_id=_text(r["track_id"]),
            title=_text(r.get("title")),
            artist=_text(r.get("artist")),
            album=_text(r.get("album")),
            genres=[_text(g) for g in r.get("genres") or []],
            tags=[_text(t) for t in r.get("tags") or []],
            year=int(r.get("year") or 0),
            popularity=float(r.get("popularity") or 0.0),
        )
        for r in tracks
    ]
    dataset, genres, titles = build_dataset(interactions, users, items)
    loaded = LoadedDataset(name=name, dataset=dataset, genre_names=genres, titles=titles)
    _warn_if_small(loaded)
    return loaded


# --------------------------------------------------------------------------- dispatch


def _warn_if_small(loaded: LoadedDataset) -> None:
    ds = loaded.dataset
    n_users = len(np.unique(ds.user)) if ds.n_interactions else 0
    if n_users < MIN_USERS_FOR_EVALUATION or ds.n_interactions < MIN_INTERACTIONS_FOR_EVALUATION:
        note = (
            f"Too small for meaningful numbers: {n_users} listeners and {ds.n_interactions} "
            f"interactions (want >= {MIN_USERS_FOR_EVALUATION} and "
            f">= {MIN_INTERACTIONS_FOR_EVALUATION}); treat results as a smoke test."
        )
        loaded.notes.append(note)
        logger.warning("%s: %s", loaded.name, note)
    elif ds.n_tracks and ds.n_interactions / ds.n_tracks < SPARSE_USERS_PER_ITEM:
        note = (
            f"Very sparse: {ds.n_interactions / ds.n_tracks:.1f} interactions per item on "
            "average, so most items are seen by one listener; numbers are noisy."
        )
        loaded.notes.append(note)
        logger.warning("%s: %s", loaded.name, note)


def load_dataset(name_or_path: str, data_dir: Path | str) -> LoadedDataset:
    """Load a named dataset from ``data_dir``, or a generic folder given by path."""
    if name_or_path == EVENTS_DATASET:
        raise ValueError(
            "the 'events' dataset comes from the database: build it with read_event_rows()"
        )
    folder_name = DATASET_FOLDERS.get(name_or_path)
    if folder_name is None:
        return read_generic_folder(Path(name_or_path))
    folder = Path(data_dir) / folder_name
    if not folder.is_dir():
        raise DatasetFormatError(folder, f"dataset folder for {name_or_path!r} not found")
    if name_or_path == "ml-100k":
        return read_movielens_100k(folder)
    if name_or_path == "lastfm-360k":
        return read_lastfm_360k(folder)
    return read_lfm_1b(folder)
