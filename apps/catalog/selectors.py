"""Reads from the catalog, search first.

Search is one selector with an engine per database, chosen by ``connection.vendor``:

- PostgreSQL: a weighted tsvector (title A > artist B > album C > tags D, unaccented) matched
  through its GIN index. The most popular matches (at most :data:`RANK_CANDIDATES`) are ranked by
  ``ts_rank``, then popularity: that bound keeps a two-letter prefix matching most of the
  catalog as cheap as a rare word, at the price of ranking only the popular part of a huge
  match set.
- SQLite: an FTS5 table with prefix indexes, ranked by ``bm25`` with the same column weights,
  then popularity.

As you type, every word but the last must match whole and the last matches as a prefix; a
trailing single letter waits for the next one. When nothing matches, each word is replaced by
the closest word of the catalog (``pg_trgm`` similarity over a term list with a GIN trigram
index on PostgreSQL, difflib over FTS5's vocabulary on SQLite) and the search runs again: that
is how "Lorenso Quintavale" finds Lorenzo Quintavalle.

Queries shorter than :data:`MIN_QUERY_LENGTH` return popular tracks instead of scanning. The query
is reduced to word tokens before it reaches either engine, so quotes, ``*``, ``NEAR(``, SQL
metacharacters and emoji are only separators.
"""

from __future__ import annotations

import difflib
import re
import threading
import unicodedata
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models import Count, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from apps.catalog.models import Artist, Genre, Track

MIN_QUERY_LENGTH = 2
SEARCH_LIMIT = 10
MAX_QUERY_CHARS = 200  # the rest of a pasted essay cannot change the top results
MAX_TOKENS = 8
MAX_TOKEN_CHARS = 40
MAX_FUZZY_CHARS = 64
MAX_OFFSET = 1_000
# PostgreSQL ranks at most this many matches (the most popular ones) by relevance.
RANK_CANDIDATES = 100
# Above this many matching tracks, walking the popularity index beats reading every match.
POPULARITY_WALK_MIN_MATCHES = 2_500
MIN_CORRECTED_CHARS = 3  # shorter words are too ambiguous to correct
SQLITE_CLOSE_CUTOFF = 0.7
SQLITE_RANK_CANDIDATES = 200  # best bm25 scores re-ordered with popularity as the tie-break
# Column weights for SQLite's bm25, in the FTS table's column order (title, artist, album, tags).
BM25_WEIGHTS = (10.0, 4.0, 2.0, 1.0)

_TOKEN = re.compile(r"[^\W_]+")


# --- query normalisation ----------------------------------------------------------------------


def fold(text: str) -> str:
    """Lower-case, accents removed: ``"Crème Brûlée"`` → ``"creme brulee"``."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def query_tokens(query: str) -> list[str]:
    """The searchable words of a query: folded, at most :data:`MAX_TOKENS` of them."""
    tokens = _TOKEN.findall(fold(query[:MAX_QUERY_CHARS]))
    return [token[:MAX_TOKEN_CHARS] for token in tokens[:MAX_TOKENS]]


def is_short_query(query: str) -> bool:
    return len(query.strip()) < MIN_QUERY_LENGTH or not query_tokens(query)


# --- public selectors -------------------------------------------------------------------------


def track_search(
    query: str, *, genre_id: int | None = None, limit: int = SEARCH_LIMIT, offset: int = 0
) -> list[Track]:
    """Tracks matching ``query``, best first; popular tracks for a short or empty query."""
    ids = track_search_ids(query, genre_id=genre_id, limit=limit, offset=offset)
    return tracks_by_ids(ids)


def track_search_ids(
    query: str, *, genre_id: int | None = None, limit: int = SEARCH_LIMIT, offset: int = 0
) -> list[int]:
    limit = max(1, limit)
    offset = min(max(0, offset), MAX_OFFSET)
    if is_short_query(query):
        return list(
            popular_tracks_queryset(genre_id=genre_id).values_list("id", flat=True)[
                offset : offset + limit
            ]
        )
    engine = _PostgresSearch() if connection.vendor == "postgresql" else _SqliteSearch()
    return engine.search(query, genre_id=genre_id, limit=limit, offset=offset)


def popular_tracks_queryset(*, genre_id: int | None = None) -> QuerySet[Track]:
    tracks = Track.objects.order_by("-listens", "-favorites", "id")
    if genre_id is not None:
        tracks = tracks.filter(genres__id=genre_id)
    return tracks


def popular_tracks(limit: int = SEARCH_LIMIT, *, genre_id: int | None = None) -> list[Track]:
    return list(_with_relations(popular_tracks_queryset(genre_id=genre_id))[:limit])


def tracks_by_ids(ids: Sequence[int]) -> list[Track]:
    """Tracks with artist, album and top genre loaded, in the order of ``ids``."""
    if not ids:
        return []
    found = {t.id: t for t in _with_relations(Track.objects.filter(id__in=ids))}
    return [found[pk] for pk in ids if pk in found]


def track_get(*, track_id: int) -> Track:
    """One track with everything its page shows; 404 when unknown."""
    queryset = _with_relations(Track.objects.all()).prefetch_related(
        Prefetch("genres", queryset=Genre.objects.order_by("title"))
    )
    return get_object_or_404(queryset, id=track_id)


def artist_get(*, artist_id: int) -> Artist:
    queryset = Artist.objects.annotate(track_count=Count("tracks"))
    return get_object_or_404(queryset, id=artist_id)


def artist_top_tracks(*, artist_id: int, limit: int = 50) -> list[Track]:
    return list(_with_relations(popular_tracks_queryset().filter(artist_id=artist_id))[:limit])


def genre_tree() -> list[dict[str, Any]]:
    """All genres as nested ``{"id", "title", "track_count", "children"}`` dicts (one query)."""
    nodes: dict[int, dict[str, Any]] = {}
    parents: dict[int, int | None] = {}
    for genre_id, title, parent_id, track_count in Genre.objects.order_by("title").values_list(
        "id", "title", "parent_id", "track_count"
    ):
        nodes[genre_id] = {
            "id": genre_id,
            "title": title,
            "track_count": track_count,
            "children": [],
        }
        parents[genre_id] = parent_id
    roots = []
    for genre_id, node in nodes.items():
        parent = parents[genre_id]
        if parent is not None and parent in nodes and parent != genre_id:
            nodes[parent]["children"].append(node)
        else:
            roots.append(node)
    return roots


def catalog_is_empty() -> bool:
    return not Track.objects.exists()


def _with_relations(queryset: QuerySet[Track]) -> QuerySet[Track]:
    return queryset.select_related("artist", "album", "genre_top").defer("search_vector")


# --- engines ---------------------------------------------------------------------------------


def search_terms(tokens: list[str]) -> list[tuple[str, bool]]:
    """``(word, is_prefix)`` pairs: whole words, the last one a prefix while being typed."""
    if len(tokens) > 1 and len(tokens[-1]) == 1:
        tokens = tokens[:-1]  # "love s" shows "love" until the next letter arrives
    last = len(tokens) - 1
    return [(token, i == last and len(token) > 1) for i, token in enumerate(tokens)]


def _genre_clause(genre_id: int | None) -> tuple[str, list[Any]]:
    if genre_id is None:
        return "", []
    return (
        " AND EXISTS (SELECT 1 FROM catalog_track_genres g"
        " WHERE g.track_id = t.id AND g.genre_id = %s)",
        [genre_id],
    )


def _fetch_ids(sql: str, params: list[Any]) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


class _Engine:
    def search(self, query: str, *, genre_id: int | None, limit: int, offset: int) -> list[int]:
        terms = search_terms(query_tokens(query))
        if not terms:
            return []
        ids = self.match(terms, genre_id=genre_id, limit=limit, offset=offset)
        if ids or offset:
            return ids
        corrected = self.correct(terms)
        if corrected == terms:
            return []
        return self.match(corrected, genre_id=genre_id, limit=limit, offset=0)

    def match(
        self, terms: list[tuple[str, bool]], *, genre_id: int | None, limit: int, offset: int
    ) -> list[int]:
        raise NotImplementedError

    def correct(self, terms: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
        raise NotImplementedError


class _PostgresSearch(_Engine):
    def match(
        self, terms: list[tuple[str, bool]], *, genre_id: int | None, limit: int, offset: int
    ) -> list[int]:
        tsquery, estimate = self._prepare(terms)
        genre_sql, genre_params = _genre_clause(genre_id)
        # Two plans, and the planner misjudges which is cheaper (it underestimates the cost of
        # testing each row it walks). Many matches: walk the popularity index and stop after the
        # candidates. Few: collect them all from the GIN index and sort (``+ 0`` keeps the
        # popularity index out).
        order = (
            "t.listens DESC, t.favorites DESC"
            if estimate > POPULARITY_WALK_MIN_MATCHES
            else "t.listens + 0 DESC"
        )
        sql = (
            "SELECT c.id FROM ("  # noqa: S608 - constant identifiers only; values are parameters
            " SELECT t.id, t.search_vector, t.listens, t.favorites FROM catalog_track t"
            " WHERE t.search_vector @@ to_tsquery('simple', %s)"
            + genre_sql
            + f" ORDER BY {order} LIMIT %s"
            ") AS c ORDER BY ts_rank(c.search_vector, to_tsquery('simple', %s)) DESC,"
            " c.listens DESC, c.favorites DESC, c.id LIMIT %s OFFSET %s"
        )
        candidates = max(RANK_CANDIDATES, offset + limit)
        return _fetch_ids(sql, [tsquery, *genre_params, candidates, tsquery, limit, offset])

    @staticmethod
    def _prepare(terms: list[tuple[str, bool]]) -> tuple[str, int]:
        """The unaccented tsquery text, and how many tracks it can match at most.

        The tsquery then goes to the planner as a constant (``unaccent`` is only STABLE, so
        inside the query it would hide the value from the row estimates). The bound is the
        rarest term's document count in the term list.
        """
        tsquery = " & ".join(f"{word}:*" if prefix else word for word, prefix in terms)
        counts = ", ".join(
            "(SELECT coalesce(sum(ndoc), 0) FROM catalog_search_term WHERE word LIKE %s)"
            for _ in terms
        )
        patterns = [f"{word}%" if prefix else word for word, prefix in terms]
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT unaccent(%s), LEAST({counts})", [tsquery, *patterns])
            row = cursor.fetchone()
        return str(row[0]), int(row[1] or 0)

    def correct(self, terms: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
        words = [word for word, _ in terms]
        # For each word, the most similar catalog word (GIN trigram index; ``%`` is similarity
        # above pg_trgm.similarity_threshold), the commoner one on ties.
        sql = (
            "SELECT w.i, (SELECT s.word FROM catalog_search_term s WHERE s.word %% w.word"
            " ORDER BY similarity(s.word, w.word) DESC, s.ndoc DESC LIMIT 1)"
            " FROM (SELECT i, unaccent(raw) AS word FROM unnest(%s::text[]) WITH ORDINALITY"
            " AS u(raw, i)) AS w"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [words])
            best = {int(i) - 1: word for i, word in cursor.fetchall() if word}
        return [
            (best.get(i, word) if len(word) >= MIN_CORRECTED_CHARS else word, prefix)
            for i, (word, prefix) in enumerate(terms)
        ]


class _SqliteSearch(_Engine):
    def match(
        self, terms: list[tuple[str, bool]], *, genre_id: int | None, limit: int, offset: int
    ) -> list[int]:
        # Words are letters and digits only; quoting them keeps FTS5 from reading any as syntax.
        expression = " ".join(f'"{word}"*' if prefix else f'"{word}"' for word, prefix in terms)
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        genre_sql, genre_params = _genre_clause(genre_id)
        if genre_id is None:
            # FTS5 ranks inside its own index first (no join per match), then the best
            # candidates are ordered with popularity as the tie-break.
            sql = (
                "SELECT t.id FROM (SELECT rowid, bm25(catalog_track_fts, "  # noqa: S608 - constant identifiers only; values are parameters
                f"{weights}) AS score FROM catalog_track_fts WHERE catalog_track_fts MATCH %s"
                " ORDER BY score LIMIT %s) AS f JOIN catalog_track t ON t.id = f.rowid"
                " ORDER BY f.score, t.listens DESC, t.favorites DESC, t.id LIMIT %s OFFSET %s"
            )
            candidates = max(SQLITE_RANK_CANDIDATES, offset + limit)
            return _fetch_ids(sql, [expression, candidates, limit, offset])
        sql = (
            "SELECT t.id FROM catalog_track_fts f JOIN catalog_track t ON t.id = f.rowid"  # noqa: S608 - constant identifiers only; values are parameters
            " WHERE catalog_track_fts MATCH %s" + genre_sql + f" ORDER BY bm25(catalog_track_fts,"
            f" {weights}), t.listens DESC, t.favorites DESC, t.id LIMIT %s OFFSET %s"
        )
        return _fetch_ids(sql, [expression, *genre_params, limit, offset])

    def correct(self, terms: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
        vocabulary = _sqlite_terms()
        corrected = []
        for word, prefix in terms:
            if len(word) >= MIN_CORRECTED_CHARS and word not in vocabulary.words:
                close = difflib.get_close_matches(
                    word, vocabulary.candidates(word), n=1, cutoff=SQLITE_CLOSE_CUTOFF
                )
                word = close[0] if close else word
            corrected.append((word, prefix))
        return corrected


class _Vocabulary:
    """The FTS5 index's words, bucketed by length so a typo is compared with few of them."""

    def __init__(self, words: list[str]) -> None:
        self.words = set(words)
        self.by_length: dict[int, list[str]] = {}
        for word in words:
            self.by_length.setdefault(len(word), []).append(word)

    def candidates(self, word: str) -> list[str]:
        """Words within two letters of its length sharing its first or second letter: typos
        rarely change both."""
        near: list[str] = []
        for length in range(len(word) - 2, len(word) + 3):
            near.extend(
                w for w in self.by_length.get(length, ()) if w[0] == word[0] or w[1:2] == word[1:2]
            )
        return near


# SQLite's term list, per process, reloaded when the catalog gains or loses tracks.
_terms_cache: dict[str, Any] = {"key": None, "vocabulary": _Vocabulary([])}
_terms_lock = threading.Lock()


def search_terms_cache_clear() -> None:
    with _terms_lock:
        _terms_cache.update(key=None, vocabulary=_Vocabulary([]))


def _sqlite_terms() -> _Vocabulary:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), max(id) FROM catalog_track")
        key = tuple(cursor.fetchone() or ())
        with _terms_lock:
            if _terms_cache["key"] != key:
                cursor.execute("SELECT term FROM catalog_track_fts_terms")
                words = [row[0] for row in cursor.fetchall()]
                _terms_cache.update(key=key, vocabulary=_Vocabulary(words))
            vocabulary: _Vocabulary = _terms_cache["vocabulary"]
            return vocabulary
