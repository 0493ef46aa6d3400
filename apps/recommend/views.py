"""The "For you" page (the card itself renders inside the search results partial)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from apps.accounts.identity import get_listener
from apps.recommend.selectors import shown_recommendations

RECOMMENDATIONS_PAGE_SIZE = 20


@require_GET
def recommendations_page(request: HttpRequest) -> HttpResponse:
    listener = get_listener(request)
    assert listener is not None  # the demographics gate guarantees it
    items = shown_recommendations(listener=listener, n=RECOMMENDATIONS_PAGE_SIZE)
    return render(request, "recommend/recommendations.html", {"recommendations": items})
