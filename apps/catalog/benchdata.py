"""A generated catalog in the official FMA layout, at the official size, for the benchmarks.

The real ``fma_metadata.zip`` (106,574 tracks) cannot be downloaded on our machines, so the
import and search benchmarks run on a file of the same shape: the same 52 columns and header
rows, the same counts of tracks, artists, albums and genres, artist and album fields repeated on
every track row with long biographies (the official ``tracks.csv`` is about 260 MB for that
reason), and log-normal listens. Words are drawn with their real frequencies from the titles and
artist names of a real official-layout ``tracks.csv`` when one is given (the shared FMA subset),
so common words and prefixes are as common as in FMA; without one, from a Zipf distribution over
made-up words. Deterministic for a given seed and source.
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter
from pathlib import Path

import numpy as np

from apps.catalog.models import AUDIO_FEATURES

OFFICIAL_TRACKS = 106_574
OFFICIAL_ARTISTS = 16_341
OFFICIAL_ALBUMS = 14_854
OFFICIAL_GENRES = 163
TOP_LEVEL_GENRES = 16
ECHONEST_SHARE = 13_129 / 106_574

TRACK_HEADER_GROUPS = {
    "album": [
        "comments", "date_created", "date_released", "engineer", "favorites", "id",
        "information", "listens", "producer", "tags", "title", "tracks", "type",
    ],
    "artist": [
        "active_year_begin", "active_year_end", "associated_labels", "bio", "comments",
        "date_created", "favorites", "id", "latitude", "location", "longitude", "members",
        "name", "related_projects", "tags", "website", "wikipedia_page",
    ],
    "set": ["split", "subset"],
    "track": [
        "bit_rate", "comments", "composer", "date_created", "date_recorded", "duration",
        "favorites", "genre_top", "genres", "genres_all", "information", "interest",
        "language_code", "license", "listens", "lyricist", "number", "publisher", "tags", "title",
    ],
}  # fmt: skip
TRACK_COLUMNS = [(group, name) for group, names in TRACK_HEADER_GROUPS.items() for name in names]
_SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ne",
    "ra",
    "su",
    "ti",
    "vo",
    "an",
    "el",
    "or",
    "un",
    "be",
    "da",
    "fi",
    "go",
    "hu",
    "ja",
    "ke",
    "li",
    "mo",
    "nu",
    "pa",
    "qui",
    "re",
    "sa",
    "to",
    "ve",
    "wa",
    "xo",
    "yu",
    "ze",
    "bra",
    "cri",
    "dra",
    "fle",
    "glo",
    "pra",
    "stri",
    "tho",
    "wen",
    "sha",
    "chi",
    "lu",
    "mar",
    "ven",
    "sol",
    "ri",
    "ta",
    "ny",
    "el",
]
_LICENSES = [
    "Attribution-NonCommercial-ShareAlike 3.0 International",
    "Attribution-NonCommercial-NoDerivatives (aka Music Sharing) 3.0 International",
    "Attribution 4.0 International",
    "Creative Commons Attribution-NonCommercial-NoDerivatives 4.0",
]


class WordSource:
    """Draws words: with real frequencies when given a corpus, else Zipf over made-up words."""

    def __init__(self, rng: np.random.Generator, counts: Counter[str] | None = None) -> None:
        self.rng = rng
        if counts:
            self.words = [word for word, _ in counts.most_common()]
            weights = np.array([count for _, count in counts.most_common()], dtype=float)
            self.probabilities: np.ndarray | None = weights / weights.sum()
        else:
            self.words = _vocabulary(rng, 30_000)
            self.probabilities = None

    def sample(self, n: int) -> list[str]:
        if self.probabilities is None:
            return _zipf_choice(self.rng, self.words, n)
        picks = self.rng.choice(len(self.words), size=n, p=self.probabilities)
        return [self.words[int(i)] for i in picks]


def real_word_counts(tracks_csv: Path) -> tuple[Counter[str], Counter[str]]:
    """Word frequencies of (titles, artist names) in an official-layout ``tracks.csv``."""
    import pandas as pd

    frame = pd.read_csv(tracks_csv, index_col=0, header=[0, 1], dtype=str)
    token = re.compile(r"[^\W_]+")

    def count(column: tuple[str, str]) -> Counter[str]:
        words: Counter[str] = Counter()
        for value in frame[column].dropna():
            words.update(token.findall(str(value).lower()))
        return words

    return count(("track", "title")), count(("artist", "name"))


def _vocabulary(rng: np.random.Generator, size: int) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        count = int(rng.integers(1, 4))
        words.add("".join(rng.choice(_SYLLABLES, size=count)))
    return sorted(words, key=lambda w: (len(w), w))


def _zipf_choice(rng: np.random.Generator, vocabulary: list[str], n: int) -> list[str]:
    ranks = rng.zipf(1.3, size=n) - 1
    return [vocabulary[min(int(r), len(vocabulary) - 1)] for r in ranks]


def _phrase(words: list[str], start: int, length: int) -> str:
    return " ".join(words[start : start + length]).title()


def write_benchmark_catalog(
    directory: Path,
    *,
    tracks: int = OFFICIAL_TRACKS,
    artists: int = OFFICIAL_ARTISTS,
    albums: int = OFFICIAL_ALBUMS,
    seed: int = 106_574,
    words_from: Path | None = None,
) -> dict[str, int]:
    """Write tracks.csv, genres.csv and echonest.csv under ``directory``; returns the counts."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    vocabulary = _vocabulary(rng, 30_000)
    title_counts, name_counts = real_word_counts(words_from) if words_from else (None, None)
    title_source = WordSource(rng, title_counts)
    name_source = WordSource(rng, name_counts)

    genre_ids = list(range(1, OFFICIAL_GENRES + 1))
    top_ids = genre_ids[:TOP_LEVEL_GENRES]
    genre_parent = {g: 0 if g in top_ids else int(rng.choice(top_ids)) for g in genre_ids}
    genre_titles = {g: f"{vocabulary[1000 + g].title()} {g}" for g in genre_ids}
    with (directory / "genres.csv").open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["genre_id", "#tracks", "parent", "title", "top_level"])
        for g in genre_ids:
            top = g if genre_parent[g] == 0 else genre_parent[g]
            writer.writerow(
                [g, int(rng.integers(10, 40_000)), genre_parent[g], genre_titles[g], top]
            )

    name_words = name_source.sample(artists * 3)
    artist_rows = []
    for a in range(artists):
        length = int(rng.integers(1, 4))
        bio_words = title_source.sample(300)
        artist_rows.append(
            {
                "id": a + 1,
                "name": _phrase(name_words, a * 3, length),
                "bio": "<p>" + " ".join(bio_words) + "</p>",
                "location": _phrase(vocabulary, int(rng.integers(0, 5000)), 2),
                "website": f"http://artist{a + 1}.example.org",
                "date_created": "2008-11-26 01:42:32",
                "favorites": int(rng.integers(0, 50)),
            }
        )
    album_artist = rng.integers(0, artists, size=albums)
    album_words = title_source.sample(albums * 3)
    album_rows = [
        {
            "id": b + 1,
            "title": _phrase(album_words, b * 3, int(rng.integers(1, 4))),
            "artist": int(album_artist[b]),
            "information": "<p>" + " ".join(title_source.sample(160)) + "</p>",
            "date_released": (
                f"{int(rng.integers(2000, 2017))}-0{int(rng.integers(1, 10))}-15 00:00:00"
            ),
        }
        for b in range(albums)
    ]
    albums_by_artist: dict[int, list[int]] = {}
    for b, a in enumerate(album_artist):
        albums_by_artist.setdefault(int(a), []).append(b)

    title_words = title_source.sample(tracks * 5)
    # Artists' track counts are skewed like FMA's: the most prolific have several hundred
    # tracks (P(index < k) = sqrt(k / artists)), most have a handful.
    track_artist = (artists * rng.random(tracks) ** 2).astype(int)
    listens = np.exp(rng.normal(7.0, 1.6, size=tracks)).astype(int)
    track_ids = np.sort(rng.choice(np.arange(2, tracks * 2), size=tracks, replace=False))
    echonest_mask = rng.random(tracks) < ECHONEST_SHARE
    tag_words = title_source.sample(tracks * 2)

    with (directory / "tracks.csv").open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["", *[c[0] for c in TRACK_COLUMNS]])
        writer.writerow(["", *[c[1] for c in TRACK_COLUMNS]])
        writer.writerow(["track_id"] + [""] * len(TRACK_COLUMNS))
        for i in range(tracks):
            artist = artist_rows[int(track_artist[i])]
            owned = albums_by_artist.get(int(track_artist[i]), [])
            album = album_rows[owned[i % len(owned)]] if owned and i % 5 else None
            genre = int(rng.choice(genre_ids))
            top = genre if genre_parent[genre] == 0 else genre_parent[genre]
            n_tags = int(rng.integers(0, 3))
            row: dict[tuple[str, str], object] = {
                ("artist", "id"): artist["id"],
                ("artist", "name"): artist["name"],
                ("artist", "bio"): artist["bio"],
                ("artist", "location"): artist["location"],
                ("artist", "website"): artist["website"],
                ("artist", "date_created"): artist["date_created"],
                ("artist", "favorites"): artist["favorites"],
                ("set", "split"): "training",
                ("set", "subset"): "large",
                ("track", "bit_rate"): 320000,
                ("track", "date_created"): "2012-06-01 12:00:00",
                ("track", "duration"): int(rng.integers(30, 600)),
                ("track", "favorites"): int(listens[i] // 200),
                ("track", "genre_top"): genre_titles[top],
                ("track", "genres"): f"[{genre}]",
                ("track", "genres_all"): f"[{genre}]" if genre == top else f"[{genre}, {top}]",
                ("track", "interest"): int(listens[i] * 1.7),
                ("track", "license"): _LICENSES[i % len(_LICENSES)],
                ("track", "listens"): int(listens[i]),
                ("track", "number"): i % 12 + 1,
                ("track", "tags"): str(tag_words[i * 2 : i * 2 + n_tags]),
                ("track", "title"): _phrase(title_words, i * 5, int(rng.integers(1, 5))),
            }
            if album is not None:
                row.update(
                    {
                        ("album", "id"): album["id"],
                        ("album", "title"): album["title"],
                        ("album", "type"): "Album",
                        ("album", "information"): album["information"],
                        ("album", "date_released"): album["date_released"],
                        ("album", "tracks"): 10,
                    }
                )
            writer.writerow([int(track_ids[i]), *[row.get(c, "") for c in TRACK_COLUMNS]])

    with (directory / "echonest.csv").open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["", *["echonest"] * len(AUDIO_FEATURES)])
        writer.writerow(["", *["audio_features"] * len(AUDIO_FEATURES)])
        writer.writerow(["", *AUDIO_FEATURES])
        writer.writerow(["track_id"] + [""] * len(AUDIO_FEATURES))
        for track_id in track_ids[echonest_mask]:
            values = rng.random(len(AUDIO_FEATURES))
            values[AUDIO_FEATURES.index("tempo")] = 60 + 120 * values[AUDIO_FEATURES.index("tempo")]
            writer.writerow([int(track_id), *[f"{v:.6f}" for v in values]])
    return {
        "tracks": tracks,
        "artists": artists,
        "albums": albums,
        "genres": OFFICIAL_GENRES,
        "echonest": int(echonest_mask.sum()),
        "distinct_title_words": len(title_source.words),
        "bytes": math.ceil((directory / "tracks.csv").stat().st_size),
    }
