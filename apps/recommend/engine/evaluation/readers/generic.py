"""The generic folder format: ``interactions.csv`` plus optional ``users.csv`` and ``items.csv``.

Documented in ``docs/evaluation.md``. Holds the CSV helpers too (header checks, numbers,
timestamps, ``|``-separated lists): only this format reads CSV.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

from apps.recommend.engine.evaluation.readers.common import (
    DatasetFormatError,
    InteractionTuple,
    ItemRow,
    LoadedDataset,
    UserRow,
    build_dataset,
    normalise_gender,
    warn_if_small,
)

INTERACTION_COLUMNS = ("user_id", "item_id", "weight")
OPTIONAL_INTERACTION_COLUMNS = ("timestamp",)
USER_COLUMNS = ("age", "gender", "country", "occupation")
ITEM_COLUMNS = ("title", "artist", "genres", "tags", "year")
LIST_SEPARATOR = "|"


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
                gender=normalise_gender(row.get("gender", "")),
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
    warn_if_small(loaded)
    return loaded
