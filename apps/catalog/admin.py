"""Catalog admin: browse and fix tracks, artists, albums, genres; run imports in the background."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path, reverse

from apps.catalog.models import Album, Artist, Genre, Track
from apps.catalog.services import track_search_index_refresh
from apps.catalog.tasks import import_enqueue, import_progress


class HasAudioFeaturesFilter(admin.SimpleListFilter):
    title = "audio features"
    parameter_name = "audio"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Known"), ("no", "Unknown")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Track]) -> QuerySet[Track]:
        if self.value() == "yes":
            return queryset.filter(energy__isnull=False)
        if self.value() == "no":
            return queryset.filter(energy__isnull=True)
        return queryset


class ImportForm(forms.Form):
    path = forms.CharField(
        max_length=1000,
        help_text="A folder on the server with the official tracks.csv, genres.csv, echonest.csv.",
    )


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "title",
        "artist",
        "album",
        "genre_top",
        "year",
        "listens",
        "has_features",
    ]
    list_filter = ["genre_top", "year", HasAudioFeaturesFilter]
    list_select_related = ["artist", "album", "genre_top"]
    search_fields = ["title", "artist__name", "album__title", "=id"]
    autocomplete_fields = ["artist", "album"]
    filter_horizontal = ["genres"]
    show_full_result_count = False  # counting 106,574 rows on every page view is wasted work
    change_list_template = "admin/catalog/track/change_list.html"

    def get_readonly_fields(self, request: HttpRequest, obj: Track | None = None) -> list[str]:
        # The primary key is FMA's track id: fixed once the track exists.
        return ["id"] if obj else []

    @admin.display(boolean=True, description="Audio features")
    def has_features(self, track: Track) -> bool:
        return track.has_audio_features

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        track_search_index_refresh(track_ids=[form.instance.pk])

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "import/", self.admin_site.admin_view(self.import_view), name="catalog_track_import"
            ),
            path(
                "import/<str:task_id>/",
                self.admin_site.admin_view(self.import_status_view),
                name="catalog_track_import_status",
            ),
        ]
        return own + super().get_urls()

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not request.user.has_perm("catalog.add_track"):
            messages.error(request, "You may not import tracks.")
            return HttpResponseRedirect(reverse("admin:catalog_track_changelist"))
        form = ImportForm(request.POST or None, initial={"path": settings.FMA_METADATA_DIR})
        if request.method == "POST" and form.is_valid():
            task_id = import_enqueue(path=form.cleaned_data["path"])
            return HttpResponseRedirect(
                reverse("admin:catalog_track_import_status", args=[task_id])
            )
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": "Import FMA metadata",
        }
        return render(request, "admin/catalog/track/import.html", context)

    def import_status_view(self, request: HttpRequest, task_id: str) -> HttpResponse:
        progress = import_progress(task_id)
        percent = 0
        if progress and progress.get("total"):
            percent = round(100 * progress.get("done", 0) / progress["total"])
        context = {
            **self.admin_site.each_context(request),
            "title": "Catalog import",
            "task_id": task_id,
            "progress": progress,
            "percent": percent,
            "finished": progress is not None and progress.get("state") in {"done", "failed"},
        }
        return render(request, "admin/catalog/track/import_status.html", context)


@admin.register(Artist)
class ArtistAdmin(admin.ModelAdmin):
    list_display = ["name", "fma_id", "location"]
    search_fields = ["name", "=fma_id"]
    readonly_fields = ["fma_id"]
    show_full_result_count = False
    # A website typed without a scheme is taken as https (Django 6's default; 5.2 assumes http
    # and warns).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_model(self, request: HttpRequest, obj: Artist, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        track_search_index_refresh(track_ids=list(obj.tracks.values_list("id", flat=True)))


@admin.register(Album)
class AlbumAdmin(admin.ModelAdmin):
    list_display = ["title", "artist", "album_type", "date_released", "fma_id"]
    list_filter = ["album_type"]
    list_select_related = ["artist"]
    search_fields = ["title", "artist__name", "=fma_id"]
    autocomplete_fields = ["artist"]
    readonly_fields = ["fma_id"]

    def save_model(self, request: HttpRequest, obj: Album, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        track_search_index_refresh(track_ids=list(obj.tracks.values_list("id", flat=True)))


@admin.register(Genre)
class GenreAdmin(admin.ModelAdmin):
    list_display = ["title", "id", "parent", "top_level", "track_count"]
    list_filter = [("parent", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["parent", "top_level"]
    search_fields = ["title", "=id"]

    def get_readonly_fields(self, request: HttpRequest, obj: Genre | None = None) -> list[str]:
        return ["id"] if obj else []
