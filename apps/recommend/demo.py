"""Synthetic demo listeners, so a newcomer can watch the model learn (never run implicitly).

Each demo listener gets demographics and a history drawn from one or two favourite genres.
Which genres are favoured depends on the age band and gender (a fixed, seeded skew), so the
demographic predictor has something to find, and picks inside a genre follow FMA popularity,
so histories look like real listening. Every demo listener has ``is_synthetic=True``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.accounts.models import Listener
from apps.accounts.rules import Gender, Occupation
from apps.catalog.models import Track
from apps.history.models import HISTORY_LIMIT, HistoryEntry

COUNTRIES = ("US", "GB", "DE", "FR", "BR", "MX", "JP", "IN", "NG", "SE", "ES", "IT", "CA", "AU")
AGE_BANDS = ((13, 17), (18, 24), (25, 34), (35, 49), (50, 64), (65, 90))
MIN_GENRE_TRACKS = 20


@dataclass(frozen=True)
class SeedResult:
    listeners: int
    entries: int
    genres: int


@transaction.atomic
def demo_listeners_seed(*, count: int, seed: int = 0) -> SeedResult:
    rng = np.random.default_rng(seed)
    by_genre: dict[int, list[tuple[int, int]]] = defaultdict(list)
    rows = Track.objects.filter(genre_top__isnull=False).values_list(
        "id", "genre_top_id", "listens"
    )
    for track_id, genre_id, listens in rows.iterator(chunk_size=20_000):
        by_genre[genre_id].append((track_id, listens))
    genres = [g for g, tracks in by_genre.items() if len(tracks) >= MIN_GENRE_TRACKS]
    if not genres:
        return SeedResult(0, 0, 0)
    # Each (age band, gender) group prefers a few genres: the skew the demographic model finds.
    group_taste = {
        (band, gender): rng.choice(genres, size=min(3, len(genres)), replace=False)
        for band in range(len(AGE_BANDS))
        for gender in Gender.values
    }
    pools = {}
    for genre in genres:
        ids = np.array([t for t, _ in by_genre[genre]], dtype=np.int64)
        weights = np.log1p(np.array([max(0, n) for _, n in by_genre[genre]], dtype=np.float64)) + 1
        pools[genre] = (ids, weights / weights.sum())
    now = timezone.now()
    entries: list[HistoryEntry] = []
    for _ in range(count):
        band = int(rng.integers(len(AGE_BANDS)))
        gender = str(rng.choice(Gender.values, p=[0.45, 0.45, 0.05, 0.05]))
        low, high = AGE_BANDS[band]
        listener = Listener.objects.create(
            age=int(rng.integers(low, high + 1)),
            gender=gender,
            country=str(rng.choice(COUNTRIES)),
            occupation=str(rng.choice(Occupation.values)),
            demographics_completed_at=now,
            demographics_version=1,
            is_synthetic=True,
        )
        taste = group_taste[(band, gender)]
        favourites = [int(rng.choice(taste))] if rng.random() < 0.7 else list(taste[:2])
        size = int(rng.integers(8, HISTORY_LIMIT - 9))
        picked: list[int] = []
        for genre in favourites:
            ids, p = pools[genre]
            take = min(len(ids), size // len(favourites))
            picked.extend(rng.choice(ids, size=take, replace=False, p=p).tolist())
        for position, track_id in enumerate(dict.fromkeys(picked), start=1):
            entries.append(HistoryEntry(listener=listener, track_id=track_id, position=position))
    HistoryEntry.objects.bulk_create(entries, batch_size=5_000)
    # added_at is auto_now_add; spread adds over the last 30 days so time decay has a shape.
    offsets = rng.uniform(0, 30 * 86_400, len(entries))
    for entry, offset in zip(entries, offsets, strict=True):
        entry.added_at = now - timedelta(seconds=float(offset))
    HistoryEntry.objects.bulk_update(entries, ["added_at"], batch_size=5_000)
    Listener.objects.filter(is_synthetic=True).update(history_version=F("history_version") + 1)
    return SeedResult(count, len(entries), len(genres))


def demo_listeners_delete() -> int:
    deleted, _ = Listener.objects.filter(is_synthetic=True).delete()
    return deleted
