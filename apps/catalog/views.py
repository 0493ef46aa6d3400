"""Catalog pages (the search page is filled in by the catalog work)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def search_page(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/search.html")
