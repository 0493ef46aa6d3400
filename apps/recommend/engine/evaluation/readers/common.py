"""What every dataset reader shares: the row types, :func:`build_dataset` and the small-data check.

Every reader ends in :func:`build_dataset`, which takes plain rows (ids as strings, weights as
floats) so that files, public datasets and our own event store all share one code path. Also
here: :class:`DatasetFormatError`, :class:`LoadedDataset`, and the helpers more than one reader
uses (gender spellings, required files, the warning on data too small to evaluate).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from apps.recommend.engine.dataset import Dataset, ListenerFeatures, TrackFeatures

# The package's name, not this module's: the small-data warning keeps the logger name (the
# ``logger`` field of our JSON logs) it had before readers became a package.
logger = logging.getLogger(__package__)

#: Below these sizes the numbers of a protocol are too noisy to mean anything.
MIN_USERS_FOR_EVALUATION = 100
MIN_INTERACTIONS_FOR_EVALUATION = 5_000
SPARSE_USERS_PER_ITEM = 3.0


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


def normalise_gender(value: str) -> str:
    """Map the datasets' spellings to ``"m"``, ``"f"`` or ``""`` (unknown / not given)."""
    lowered = value.strip().lower()
    if lowered in ("m", "male"):
        return "m"
    if lowered in ("f", "female"):
        return "f"
    return ""


def require_file(path: Path) -> Path:
    if not path.is_file():
        raise DatasetFormatError(path, "missing file")
    return path


def warn_if_small(loaded: LoadedDataset) -> None:
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
