"""Writes to the catalog: the FMA importer and the search index it keeps in sync.

The import is idempotent: every row is an upsert keyed by FMA's ids, so running it again updates
and never duplicates. Tracks are written in batches, each batch in one transaction together with
its genre links and search documents, so a failure never leaves a half-written track. A batch the
database refuses is retried row by row, and the rows it still refuses are reported, not fatal.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connection, transaction

from apps.catalog import fma
from apps.catalog.models import AUDIO_FEATURES, UNKNOWN_ARTIST_NAME, Album, Artist, Genre, Track

logger = logging.getLogger(__name__)

IMPORT_BATCH_SIZE = 5_000
MAX_REPORTED_REJECTS = 1_000  # the report keeps the first ones; the count stays exact

ProgressCallback = Callable[[int, int], None]

TRACK_UPDATE_FIELDS = [
    "title",
    "artist",
    "album",
    "duration",
    "genre_top",
    "tags",
    "date_created",
    "year",
    "listens",
    "favorites",
    "interest",
    "license",
    *AUDIO_FEATURES,
]


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    genres: int = 0
    artists: int = 0
    albums: int = 0
    seconds: float = 0.0
    rejects: list[fma.Reject] = field(default_factory=list)
    # Seconds per phase (read, artists_albums, tracks), for the benchmark notes.
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def tracks(self) -> int:
        return self.created + self.updated

    def reject(self, track_id: str, reason: str) -> None:
        self.skipped += 1
        if len(self.rejects) < MAX_REPORTED_REJECTS:
            self.rejects.append(fma.Reject(track_id=track_id, reason=reason))

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "skipped": self.skipped,
            "genres": self.genres,
            "artists": self.artists,
            "albums": self.albums,
            "seconds": round(self.seconds, 2),
            "phases": {name: round(value, 2) for name, value in self.phases.items()},
            "rejects": [{"track_id": r.track_id, "reason": r.reason} for r in self.rejects],
        }


def catalog_import_fma(
    *,
    path: str | Path,
    batch_size: int = IMPORT_BATCH_SIZE,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Import an official-layout FMA metadata folder; returns counts and rejected rows."""
    started = time.perf_counter()
    directory = fma.find_metadata_dir(path)
    report = ImportReport()

    genres = fma.read_genres(directory)
    report.genres = _upsert_genres(genres)
    echonest = fma.read_echonest(directory)
    parsed = fma.read_tracks(directory, echonest)
    for rejected in parsed.rejects:
        report.reject(rejected.track_id, rejected.reason)
    report.phases["read"] = time.perf_counter() - started

    phase = time.perf_counter()
    artist_pks = _upsert_artists(parsed.artists.values(), batch_size)
    unknown_artist = _unknown_artist()
    album_pks = _upsert_albums(parsed.albums.values(), artist_pks, batch_size)
    report.artists, report.albums = len(artist_pks), len(album_pks)
    report.phases["artists_albums"] = time.perf_counter() - phase

    phase = time.perf_counter()
    genre_ids = set(Genre.objects.values_list("id", flat=True))
    genre_by_title = {title: pk for pk, title in Genre.objects.values_list("id", "title")}
    total = len(parsed.tracks)
    if progress:
        progress(0, total)
    for start in range(0, total, batch_size):
        batch = parsed.tracks[start : start + batch_size]
        tracks = [
            _track(record, artist_pks, unknown_artist, album_pks, genre_by_title)
            for record in batch
        ]
        links = [(record.id, [g for g in record.genre_ids if g in genre_ids]) for record in batch]
        _write_batch(tracks, links, report)
        if progress:
            progress(min(start + batch_size, total), total)
    report.phases["tracks"] = time.perf_counter() - phase

    phase = time.perf_counter()
    search_terms_refresh()
    report.phases["search_terms"] = time.perf_counter() - phase
    report.seconds = time.perf_counter() - started
    logger.info("catalog import done", extra={"report": {**report.as_dict(), "rejects": None}})
    return report


@transaction.atomic
def _upsert_genres(records: Sequence[fma.GenreRecord]) -> int:
    if not records:
        return 0
    Genre.objects.bulk_create(
        [Genre(id=r.id, title=r.title, track_count=r.track_count) for r in records],
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=["title", "track_count"],
    )
    known = {r.id for r in records} | set(Genre.objects.values_list("id", flat=True))
    Genre.objects.bulk_update(
        [
            Genre(
                id=r.id,
                parent_id=r.parent_id if r.parent_id in known else None,
                top_level_id=r.top_level_id if r.top_level_id in known else None,
            )
            for r in records
        ],
        ["parent", "top_level"],
        batch_size=500,
    )
    return len(records)


def _upsert_artists(records: Iterable[fma.ArtistRecord], batch_size: int) -> dict[int, int]:
    """Upsert by FMA id; returns ``{fma_id: pk}`` for every artist in the file."""
    objects = [
        Artist(fma_id=r.fma_id, name=r.name, location=r.location, website=r.website)
        for r in records
    ]
    return _upsert_by_fma_id(Artist, objects, ["name", "location", "website"], batch_size)


def _upsert_albums(
    records: Iterable[fma.AlbumRecord], artist_pks: dict[int, int], batch_size: int
) -> dict[int, int]:
    objects = [
        Album(
            fma_id=r.fma_id,
            title=r.title,
            artist_id=artist_pks.get(r.artist_fma_id) if r.artist_fma_id is not None else None,
            album_type=r.album_type,
            date_released=r.date_released,
        )
        for r in records
    ]
    return _upsert_by_fma_id(
        Album, objects, ["title", "artist", "album_type", "date_released"], batch_size
    )


def _upsert_by_fma_id(
    model: type[Artist] | type[Album], objects: list[Any], update_fields: list[str], batch_size: int
) -> dict[int, int]:
    """Insert or update ``objects`` keyed by FMA id; return ``{fma_id: pk}`` for those ids."""
    with transaction.atomic():
        model.objects.bulk_create(
            objects,
            batch_size=batch_size,
            update_conflicts=True,
            unique_fields=["fma_id"],
            update_fields=update_fields,
        )
    wanted = {o.fma_id for o in objects}
    return {
        fma_id: pk
        for fma_id, pk in model.objects.filter(fma_id__isnull=False).values_list("fma_id", "id")
        if fma_id is not None and fma_id in wanted
    }


def _unknown_artist() -> int:
    """The one explicit artist for tracks FMA gives no artist (no FMA id, so not upserted)."""
    artist = Artist.objects.filter(fma_id__isnull=True, name=UNKNOWN_ARTIST_NAME).first()
    if artist is None:
        artist = Artist.objects.create(name=UNKNOWN_ARTIST_NAME)
    return artist.pk


def _track(
    record: fma.TrackRecord,
    artist_pks: dict[int, int],
    unknown_artist: int,
    album_pks: dict[int, int],
    genre_by_title: dict[str, int],
) -> Track:
    artist = artist_pks.get(record.artist_fma_id) if record.artist_fma_id is not None else None
    album = album_pks.get(record.album_fma_id) if record.album_fma_id is not None else None
    return Track(
        id=record.id,
        title=record.title,
        artist_id=artist or unknown_artist,
        album_id=album,
        duration=record.duration,
        genre_top_id=genre_by_title.get(record.genre_top),
        tags=record.tags,
        date_created=record.date_created,
        year=record.year,
        listens=record.listens,
        favorites=record.favorites,
        interest=record.interest,
        license=record.license,
        **{name: record.features.get(name) for name in AUDIO_FEATURES},
    )


def _write_batch(
    tracks: list[Track], links: list[tuple[int, list[int]]], report: ImportReport
) -> None:
    try:
        created, updated = _save_tracks(tracks, links)
    except DatabaseError:
        logger.warning("import batch refused; retrying its %d rows one by one", len(tracks))
        created = updated = 0
        for track, link in zip(tracks, links, strict=True):
            try:
                one_created, one_updated = _save_tracks([track], [link])
            except DatabaseError as error:
                report.reject(str(track.id), f"database refused the row: {error}".strip()[:300])
                continue
            created += one_created
            updated += one_updated
    report.created += created
    report.updated += updated


def _save_tracks(tracks: list[Track], links: list[tuple[int, list[int]]]) -> tuple[int, int]:
    """Upsert one batch with its genre links and search documents; (created, updated)."""
    if connection.vendor == "postgresql" and len(tracks) > 1:
        return _save_tracks_copy(tracks, links)
    return _save_tracks_orm(tracks, links)


@transaction.atomic
def _save_tracks_orm(tracks: list[Track], links: list[tuple[int, list[int]]]) -> tuple[int, int]:
    ids = [t.id for t in tracks]
    existing = set(Track.objects.filter(id__in=ids).values_list("id", flat=True))
    Track.objects.bulk_create(
        tracks,
        update_conflicts=True,
        unique_fields=["id"],
        update_fields=TRACK_UPDATE_FIELDS,
    )
    through = Track.genres.through
    through.objects.filter(track_id__in=ids).delete()
    through.objects.bulk_create(
        [through(track_id=track_id, genre_id=g) for track_id, genres in links for g in genres]
    )
    track_search_index_refresh(track_ids=ids)
    return len(ids) - len(existing), len(existing)


# PostgreSQL: COPY the batch into a session-local staging table, then one INSERT ... ON CONFLICT
# from it. Building a 5,000-row multi-VALUES statement through the ORM costs several times more
# than the database work itself; COPY streams the rows.
_COPY_COLUMNS = [
    "id",
    "title",
    "artist_id",
    "album_id",
    "genre_top_id",
    "duration",
    "tags",
    "date_created",
    "year",
    "listens",
    "favorites",
    "interest",
    "license",
    *AUDIO_FEATURES,
]
_STAGING = "catalog_track_import"
_STAGING_CREATE = (
    f"CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGING} ON COMMIT DELETE ROWS AS "  # noqa: S608 - constant identifiers only; values are parameters
    f"SELECT {', '.join(_COPY_COLUMNS)} FROM catalog_track WITH NO DATA"
)


def _pg_search_vector(track: str, artist_name: str, album_title: str) -> str:
    """SQL for a track's weighted document: title A, artist B, album C, tags D, unaccented."""
    return (
        f"setweight(to_tsvector('simple', unaccent({track}.title)), 'A')"  # noqa: S608 - constant identifiers only; values are parameters
        f" || setweight(to_tsvector('simple', unaccent({artist_name})), 'B')"
        f" || setweight(to_tsvector('simple', unaccent(coalesce({album_title}, ''))), 'C')"
        " || setweight(to_tsvector('simple', unaccent(coalesce((SELECT string_agg(tag, ' ')"
        f" FROM jsonb_array_elements_text({track}.tags) AS tag), ''))), 'D')"
    )


# The search documents are computed in the same statement, so each row is written once.
_UPSERT = (
    f"INSERT INTO catalog_track ({', '.join(_COPY_COLUMNS)}, search_vector) "  # noqa: S608 - constant identifiers only; values are parameters
    f"SELECT {', '.join('s.' + c for c in _COPY_COLUMNS)}, "
    f"{_pg_search_vector('s', 'a.name', 'al.title')} "
    f"FROM {_STAGING} AS s JOIN catalog_artist AS a ON a.id = s.artist_id "
    "LEFT JOIN catalog_album AS al ON al.id = s.album_id "
    "ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{name} = EXCLUDED.{name}" for name in [*_COPY_COLUMNS[1:], "search_vector"])
)


@transaction.atomic
def _save_tracks_copy(tracks: list[Track], links: list[tuple[int, list[int]]]) -> tuple[int, int]:
    ids = [t.id for t in tracks]
    with connection.cursor() as cursor:
        cursor.execute(_STAGING_CREATE)
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY {_STAGING} ({', '.join(_COPY_COLUMNS)}) FROM STDIN") as copy:
            for track in tracks:
                copy.write_row([_copy_value(track, name) for name in _COPY_COLUMNS])
        cursor.execute("SELECT count(*) FROM catalog_track WHERE id = ANY(%s)", [ids])
        existing = cursor.fetchone()[0]
        cursor.execute(_UPSERT)
        cursor.execute("DELETE FROM catalog_track_genres WHERE track_id = ANY(%s)", [ids])
        with raw.copy("COPY catalog_track_genres (track_id, genre_id) FROM STDIN") as copy:
            for track_id, genres in links:
                for genre_id in genres:
                    copy.write_row((track_id, genre_id))
    return len(ids) - existing, existing


def _copy_value(track: Track, name: str) -> object:
    value = getattr(track, name)
    return json.dumps(value) if name == "tags" else value


# --- search index -----------------------------------------------------------------------------

_PG_REFRESH = (
    "UPDATE catalog_track AS t SET "  # noqa: S608 - constant identifiers only; values are parameters
    f"search_vector = {_pg_search_vector('t', 'src.name', 'src.album_title')} "
    "FROM (SELECT t2.id, a.name, al.title AS album_title FROM catalog_track AS t2 "
    "JOIN catalog_artist AS a ON a.id = t2.artist_id "
    "LEFT JOIN catalog_album AS al ON al.id = t2.album_id WHERE t2.id = ANY(%s)) AS src "
    "WHERE t.id = src.id"
)
_SQLITE_DELETE = "DELETE FROM catalog_track_fts WHERE rowid IN (SELECT value FROM json_each(%s))"
_SQLITE_INSERT = """
INSERT INTO catalog_track_fts (rowid, title, artist, album, tags)
SELECT t.id, t.title, a.name, coalesce(al.title, ''),
       coalesce((SELECT group_concat(tag.value, ' ') FROM json_each(t.tags) AS tag), '')
FROM catalog_track AS t
JOIN catalog_artist AS a ON a.id = t.artist_id
LEFT JOIN catalog_album AS al ON al.id = t.album_id
WHERE t.id IN (SELECT value FROM json_each(%s))
"""


def track_search_index_refresh(*, track_ids: Sequence[int]) -> None:
    """Rewrite the search documents of these tracks from their current rows."""
    if not track_ids:
        return
    ids = [int(pk) for pk in track_ids]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_PG_REFRESH, [ids])
        elif connection.vendor == "sqlite":
            payload = json.dumps(ids)
            cursor.execute(_SQLITE_DELETE, [payload])
            cursor.execute(_SQLITE_INSERT, [payload])


def search_terms_refresh() -> None:
    """Refresh the word list typo correction reads, and the planner's statistics.

    SQLite's list (fts5vocab) reads the FTS index live, so only PostgreSQL has work to do.
    """
    from apps.catalog.selectors import search_terms_cache_clear

    search_terms_cache_clear()
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("REFRESH MATERIALIZED VIEW catalog_search_term")
        # Bulk writes leave GIN entries in the index's unsorted pending list, which every
        # search then reads whole (5 ms instead of 0.5 ms); merge them now, not at autovacuum.
        cursor.execute("SELECT gin_clean_pending_list('catalog_track_search_vector_gin')")
        # Fresh statistics let the planner choose between the GIN and popularity indexes.
        for table in ("catalog_track", "catalog_artist", "catalog_album", "catalog_track_genres"):
            cursor.execute(f"ANALYZE {table}")


def track_search_index_rebuild(*, batch_size: int = IMPORT_BATCH_SIZE) -> int:
    """Rewrite every track's search documents (after edits made outside the importer)."""
    ids = list(Track.objects.order_by("id").values_list("id", flat=True))
    for start in range(0, len(ids), batch_size):
        with transaction.atomic():
            track_search_index_refresh(track_ids=ids[start : start + batch_size])
    search_terms_refresh()
    return len(ids)
