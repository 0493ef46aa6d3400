"""The FMA catalog: genres, artists, albums and tracks.

Primary keys of Genre and Track are FMA's own ids, so URLs and API ids match the FMA dataset.
Artists and albums keep FMA's id in ``fma_id`` (empty for the explicit "Unknown artist").
"""

from __future__ import annotations

from django.contrib.postgres.search import SearchVectorField
from django.db import models

from apps.recommend.engine.dataset import AUDIO_FEATURES as ENGINE_AUDIO_FEATURES

UNKNOWN_ARTIST_NAME = "Unknown artist"
# The Echo Nest audio features FMA ships in echonest.csv, in its column order. Defined once in
# the engine (which imports no Django), so the model fields and the recommender's columns agree.
AUDIO_FEATURES = ENGINE_AUDIO_FEATURES


class Genre(models.Model):
    id = models.PositiveIntegerField(primary_key=True, help_text="FMA genre id")
    title = models.CharField(max_length=200)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    top_level = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    track_count = models.PositiveIntegerField(default=0, help_text="#tracks in FMA's genres.csv")

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class Artist(models.Model):
    fma_id = models.PositiveIntegerField(unique=True, null=True, blank=True)
    name = models.CharField(max_length=500, db_index=True)
    location = models.CharField(max_length=500, blank=True)
    website = models.URLField(max_length=1000, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Album(models.Model):
    fma_id = models.PositiveIntegerField(unique=True, null=True, blank=True)
    title = models.CharField(max_length=500)
    artist = models.ForeignKey(Artist, null=True, blank=True, on_delete=models.SET_NULL)
    album_type = models.CharField(max_length=50, blank=True)
    date_released = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class Track(models.Model):
    id = models.PositiveIntegerField(primary_key=True, help_text="FMA track id")
    title = models.CharField(max_length=500)
    artist = models.ForeignKey(Artist, on_delete=models.PROTECT, related_name="tracks")
    album = models.ForeignKey(
        Album, null=True, blank=True, on_delete=models.SET_NULL, related_name="tracks"
    )
    duration = models.PositiveIntegerField(null=True, blank=True, help_text="seconds")
    genre_top = models.ForeignKey(
        Genre, null=True, blank=True, on_delete=models.SET_NULL, related_name="top_tracks"
    )
    genres = models.ManyToManyField(Genre, blank=True, related_name="tracks")
    tags = models.JSONField(default=list, blank=True)
    date_created = models.DateTimeField(null=True, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    listens = models.PositiveIntegerField(default=0)
    favorites = models.PositiveIntegerField(default=0)
    interest = models.PositiveIntegerField(default=0)
    license = models.CharField(max_length=300, blank=True)
    # Echo Nest audio features (about an eighth of FMA has them); null when unknown.
    acousticness = models.FloatField(null=True, blank=True)
    danceability = models.FloatField(null=True, blank=True)
    energy = models.FloatField(null=True, blank=True)
    instrumentalness = models.FloatField(null=True, blank=True)
    liveness = models.FloatField(null=True, blank=True)
    speechiness = models.FloatField(null=True, blank=True)
    tempo = models.FloatField(null=True, blank=True)
    valence = models.FloatField(null=True, blank=True)
    # The search document (services.track_search_index_refresh keeps it in sync): on PostgreSQL a
    # weighted tsvector (title A, artist B, album C, tags D), unaccented, with a GIN index. SQLite
    # keeps its documents in an FTS5 table (catalog_track_fts) and leaves this empty.
    search_vector = SearchVectorField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["id"]
        indexes = [
            # Popular tracks are the fallback for short queries and the recommender's prior.
            models.Index(fields=["-listens", "-favorites"], name="track_popularity_idx"),
            models.Index(fields=["year"], name="track_year_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def has_audio_features(self) -> bool:
        return any(getattr(self, name) is not None for name in AUDIO_FEATURES)

    @property
    def duration_display(self) -> str:
        """``m:ss`` (``h:mm:ss`` past an hour); empty when unknown."""
        if self.duration is None:
            return ""
        minutes, seconds = divmod(self.duration, 60)
        hours, minutes = divmod(minutes, 60)
        if hours:
            return f"{hours}:{minutes:02d}:{seconds:02d}"
        return f"{minutes}:{seconds:02d}"
