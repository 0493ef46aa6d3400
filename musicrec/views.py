"""Site-wide views: error pages that keep the site's look (and JSON under /api/)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from musicrec.api_errors import json_not_found, json_server_error
from musicrec.middleware import API_PREFIX


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return json_not_found(request)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return json_server_error()
    # No context processors: the failure may be in one of them.
    from django.template.loader import get_template

    return HttpResponse(get_template("500.html").render(), status=500)
