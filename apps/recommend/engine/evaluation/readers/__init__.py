"""Readers that turn evaluation datasets into an engine :class:`Dataset`, and :func:`load_dataset`.

The package re-exports every reader's public names, so callers import from
``apps.recommend.engine.evaluation.readers`` whichever module defines them:

- ``common``: :class:`LoadedDataset`, :func:`build_dataset` (every reader ends in it),
  :class:`DatasetFormatError`, the row types and the small-data warning;
- ``generic``: the generic CSV folder format (documented in ``docs/evaluation.md``);
- ``movielens``: MovieLens 100K;
- ``lastfm``: Last.fm 360K and LFM-1b;
- ``events``: our own event store, fed as plain rows (:func:`read_event_rows`).

This module picks the reader for a dataset name or folder (:func:`load_dataset`).
"""

from __future__ import annotations

from pathlib import Path

from apps.recommend.engine.evaluation.readers.common import (
    MIN_INTERACTIONS_FOR_EVALUATION,
    MIN_USERS_FOR_EVALUATION,
    SPARSE_USERS_PER_ITEM,
    DatasetFormatError,
    InteractionTuple,
    ItemRow,
    LoadedDataset,
    UserRow,
    build_dataset,
)
from apps.recommend.engine.evaluation.readers.events import EVENTS_DATASET, read_event_rows
from apps.recommend.engine.evaluation.readers.generic import (
    INTERACTION_COLUMNS,
    ITEM_COLUMNS,
    LIST_SEPARATOR,
    OPTIONAL_INTERACTION_COLUMNS,
    USER_COLUMNS,
    read_generic_folder,
)
from apps.recommend.engine.evaluation.readers.lastfm import read_lastfm_360k, read_lfm_1b
from apps.recommend.engine.evaluation.readers.movielens import ML100K_GENRES, read_movielens_100k

__all__ = [
    "DATASET_FOLDERS",
    "EVENTS_DATASET",
    "INTERACTION_COLUMNS",
    "ITEM_COLUMNS",
    "LIST_SEPARATOR",
    "MIN_INTERACTIONS_FOR_EVALUATION",
    "MIN_USERS_FOR_EVALUATION",
    "ML100K_GENRES",
    "OPTIONAL_INTERACTION_COLUMNS",
    "SPARSE_USERS_PER_ITEM",
    "USER_COLUMNS",
    "DatasetFormatError",
    "InteractionTuple",
    "ItemRow",
    "LoadedDataset",
    "UserRow",
    "build_dataset",
    "load_dataset",
    "read_event_rows",
    "read_generic_folder",
    "read_lastfm_360k",
    "read_lfm_1b",
    "read_movielens_100k",
]

#: Named datasets and the folder (under the data root) each one lives in.
DATASET_FOLDERS: dict[str, str] = {
    "ml-100k": "movielens-100k",
    "lastfm-360k": "lastfm-360k-sample",
    "lfm-1b": "lfm-1b",
}


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
