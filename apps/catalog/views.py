"""Catalog pages: the search page (with its htmx results partial) and the track page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from apps.catalog import selectors
from apps.catalog.forms import SearchForm


@require_GET
@vary_on_headers("HX-Request")
def search_page(request: HttpRequest) -> HttpResponse:
    """``/`` and ``/search``: the whole page, or only its results partial for htmx."""
    form = SearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    short = selectors.is_short_query(query)
    tracks = selectors.popular_tracks() if short else selectors.track_search(query)
    context = {"form": form, "query": query, "tracks": tracks, "showing_popular": short}
    htmx = getattr(request, "htmx", False)  # set by django-htmx's middleware
    template = "catalog/search.html#results" if htmx else "catalog/search.html"
    return render(request, template, context)


@require_GET
def track_detail(request: HttpRequest, track_id: int) -> HttpResponse:
    track = selectors.track_get(track_id=track_id)
    return render(request, "catalog/track_detail.html", {"track": track})
