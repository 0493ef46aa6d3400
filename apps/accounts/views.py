"""Listener pages: the demographics form (first visit) and the profile."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from apps.accounts.forms import DemographicsForm
from apps.accounts.identity import get_listener, session_attach, session_detach
from apps.accounts.models import Listener
from apps.accounts.rules import DEMOGRAPHIC_FIELDS
from apps.accounts.services import (
    api_token_rotate,
    demographics_update,
    listener_create,
    listener_delete,
    listener_export,
)


class HtmxHttpRequest(HttpRequest):
    """What django-htmx's middleware adds to requests (for the type checker)."""

    htmx: HtmxDetails


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=False):
        return target
    return "/"


def _listener(request: HttpRequest) -> Listener:
    """The listener of a gated page (the gate middleware guarantees there is one)."""
    listener = get_listener(request)
    assert listener is not None, "gated view reached without a listener"
    return listener


@require_http_methods(["GET", "POST"])
def welcome(request: HttpRequest) -> HttpResponse:
    listener = get_listener(request)
    if listener is not None and listener.has_demographics:
        return redirect(_next_url(request))
    form = DemographicsForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        if listener is None:
            listener = listener_create(demographics=form.demographics())
        else:
            listener = demographics_update(listener=listener, demographics=form.demographics())
        session_attach(request, listener)
        return redirect(_next_url(request))
    return render(request, "accounts/welcome.html", {"form": form, "next": _next_url(request)})


@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    listener = _listener(request)
    initial = {name: getattr(listener, name) for name in DEMOGRAPHIC_FIELDS}
    initial["country"] = str(listener.country)
    form = DemographicsForm(request.POST if request.method == "POST" else None, initial=initial)
    if form.is_valid():
        demographics_update(listener=listener, demographics=form.demographics())
        messages.success(request, "Your profile is saved.")
        return redirect("profile")
    return render(request, "accounts/profile.html", {"form": form, "listener": listener})


@require_POST
def profile_token(request: HtmxHttpRequest) -> HttpResponse:
    listener = _listener(request)
    token = api_token_rotate(listener=listener)
    listener.refresh_from_db()
    context = {"listener": listener, "api_token": token}
    # Rendered, not redirected: the token exists only in this response.
    if request.htmx:
        return render(request, "accounts/profile.html#api-token", context)
    initial = {name: getattr(listener, name) for name in DEMOGRAPHIC_FIELDS}
    initial["country"] = str(listener.country)
    context["form"] = DemographicsForm(initial=initial)
    return render(request, "accounts/profile.html", context)


@require_GET
def profile_export(request: HttpRequest) -> HttpResponse:
    data = listener_export(listener=_listener(request))
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json"
    )
    response["Content-Disposition"] = 'attachment; filename="musicrec-my-data.json"'
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def profile_delete(request: HttpRequest) -> HttpResponse:
    listener = _listener(request)
    if request.method == "GET":
        return render(request, "accounts/delete.html", {"listener": listener})
    listener_delete(listener=listener)
    session_detach(request)
    messages.success(request, "Your profile, history and events are deleted.")
    return redirect("welcome")
