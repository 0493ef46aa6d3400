"""MovieLens 100K: ``u.data`` ratings, ``u.user`` demographics and ``u.item`` genres."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from apps.recommend.engine.evaluation.readers.common import (
    DatasetFormatError,
    InteractionTuple,
    ItemRow,
    LoadedDataset,
    UserRow,
    build_dataset,
    normalise_gender,
    require_file,
)

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


def read_movielens_100k(folder: Path | str) -> LoadedDataset:
    """MovieLens 100K: ``u.data`` ratings in file order, ``u.user`` demographics, ``u.item`` genres.

    File order matters: the MS Recommenders split draws one random number per row in the order
    their loader reads ``u.data``.
    """
    root = Path(folder)
    interactions: list[InteractionTuple] = [
        (parts[0], parts[1], float(parts[2]), float(parts[3]))
        for parts in _fields(require_file(root / "u.data"), "\t", 4)
    ]

    users: list[UserRow] = []
    user_path = root / "u.user"
    if user_path.is_file():
        users = [
            UserRow(
                user_id=parts[0],
                age=float(parts[1]),
                gender=normalise_gender(parts[2]),
                occupation=parts[3].lower(),
            )
            for parts in _fields(user_path, "|", 5)
        ]

    items: list[ItemRow] = []
    item_path = root / "u.item"
    if item_path.is_file():
        for parts in _fields(item_path, "|", 5 + len(ML100K_GENRES)):
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


def _fields(path: Path, separator: str, n_fields: int) -> Iterator[list[str]]:
    """Each line of a MovieLens file (Latin-1) split into exactly ``n_fields`` fields."""
    shown = "tab" if separator == "\t" else repr(separator)
    with path.open(encoding="latin-1") as handle:
        for line_no, line in enumerate(handle, start=1):
            parts = line.rstrip("\n").split(separator)
            if len(parts) != n_fields:
                raise DatasetFormatError(
                    path, f"expected {n_fields} {shown}-separated fields, got {len(parts)}", line_no
                )
            yield parts
