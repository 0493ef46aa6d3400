"""Admin: listeners (no tokens or session keys shown) and an aggregate demographics page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Case, Count, IntegerField, QuerySet, When
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from apps.accounts.models import Listener
from apps.accounts.rules import AGE_MAX, AGE_MIN

# Age bands of the aggregate page: [start, end] inclusive.
AGE_BANDS: list[tuple[int, int]] = [
    (AGE_MIN, 17),
    (18, 24),
    (25, 34),
    (35, 44),
    (45, 54),
    (55, 64),
    (65, AGE_MAX),
]


def demographics_aggregate(queryset: QuerySet[Listener]) -> dict[str, list[tuple[str, int]]]:
    completed = queryset.filter(demographics_completed_at__isnull=False)
    band_counts = completed.aggregate(
        **{
            f"band_{start}": Count(
                Case(When(age__gte=start, age__lte=end, then=1), output_field=IntegerField())
            )
            for start, end in AGE_BANDS
        }
    )
    labels = dict(Listener._meta.get_field("gender").flatchoices)
    genders = completed.values("gender").annotate(n=Count("id")).order_by("-n")
    countries = completed.values("country").annotate(n=Count("id")).order_by("-n", "country")
    return {
        "age": [(f"{start}-{end}", band_counts[f"band_{start}"]) for start, end in AGE_BANDS],
        "gender": [(str(labels.get(row["gender"], row["gender"])), row["n"]) for row in genders],
        "country": [(row["country"], row["n"]) for row in countries],
    }


@admin.register(Listener)
class ListenerAdmin(admin.ModelAdmin):
    list_display = (
        "public_id",
        "age",
        "gender",
        "country",
        "occupation",
        "history_size",
        "created_at",
    )
    list_filter = ("gender", "occupation", "is_synthetic", "created_at")
    search_fields = ("public_id",)
    date_hierarchy = "created_at"
    # No token hash: an admin has no business with credentials.
    fields = (
        "public_id",
        "created_at",
        "updated_at",
        "age",
        "gender",
        "country",
        "occupation",
        "demographics_completed_at",
        "demographics_version",
        "history_version",
        "api_token_created_at",
    )
    readonly_fields = (
        "public_id",
        "created_at",
        "updated_at",
        "demographics_completed_at",
        "demographics_version",
        "history_version",
        "api_token_created_at",
    )
    change_list_template = "accounts/admin_listener_changelist.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Listener]:
        return super().get_queryset(request).annotate(history_size=Count("history"))

    @admin.display(description="history", ordering="history_size")
    def history_size(self, listener: Any) -> int:
        return int(listener.history_size)

    def get_urls(self) -> list[URLPattern]:
        stats = path(
            "stats/",
            self.admin_site.admin_view(self.stats_view),
            name="accounts_listener_stats",
        )
        return [stats, *super().get_urls()]

    def stats_view(self, request: HttpRequest) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": "Listeners by age band, gender and country",
            "opts": self.model._meta,
            "total": Listener.objects.count(),
            "aggregate": demographics_aggregate(Listener.objects.all()),
        }
        return TemplateResponse(request, "accounts/admin_stats.html", context)
