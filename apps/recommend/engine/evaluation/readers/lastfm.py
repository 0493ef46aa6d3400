"""The Last.fm datasets: the 360K sample (items are artists) and the LFM-1b sample (tracks)."""

from __future__ import annotations

import math
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
    warn_if_small,
)


def read_lastfm_360k(folder: Path | str) -> LoadedDataset:
    """Last.fm 360K sample: items are artists (MusicBrainz id, else the lower-cased name)."""
    root = Path(folder)
    plays_path = require_file(root / "usersha1-artmbid-artname-plays.tsv")
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
                        gender=normalise_gender(parts[1]),
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
    warn_if_small(loaded)
    return loaded


def read_lfm_1b(folder: Path | str) -> LoadedDataset:
    """LFM-1b sample: listening events aggregated to (user, track) play counts."""
    root = Path(folder)
    events_path = require_file(root / "LFM-1b_LEs.sample.txt")
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
                        gender=normalise_gender(parts[3]),
                        country=parts[1].upper(),
                    )
                )
    dataset, genres, titles = build_dataset(interactions, users, items)
    loaded = LoadedDataset(
        name="lfm-1b", dataset=dataset, genre_names=genres, titles=titles, notes=[]
    )
    warn_if_small(loaded)
    return loaded
