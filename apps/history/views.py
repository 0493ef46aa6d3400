"""History pages: Add and Remove, answered with the history panel (HTMX) or a redirect."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event
from django_htmx.middleware import HtmxDetails

from apps.accounts.identity import get_listener
from apps.accounts.models import Listener
from apps.history.forms import HistoryAddForm, HistoryRemoveForm
from apps.history.selectors import history_summary_for_request
from apps.history.services import HistoryError, history_add, history_remove

HISTORY_CHANGED_EVENT = "historyChanged"


class HtmxHttpRequest(HttpRequest):
    """What django-htmx's middleware adds to requests (for the type checker)."""

    htmx: HtmxDetails


def _listener(request: HttpRequest) -> Listener:
    listener = get_listener(request)
    assert listener is not None, "gated view reached without a listener"
    return listener


def _respond(request: HtmxHttpRequest, *, message: str, ok: bool) -> HttpResponse:
    """The panel for HTMX (with its message); else a redirect back with a flash message."""
    if request.htmx:
        history_summary_for_request(request, refresh=True)
        context = {"history_message": message, "history_message_ok": ok}
        response = render(request, "history/_panel.html#panel", context)
        if ok:  # search results and the recommendation card listen for this to refresh
            trigger_client_event(response, HISTORY_CHANGED_EVENT)
        return response
    messages.add_message(request, messages.SUCCESS if ok else messages.ERROR, message)
    back = request.headers.get("Referer", "/")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=False):
        back = "/"
    return redirect(back)


@require_POST
def add(request: HtmxHttpRequest) -> HttpResponse:
    form = HistoryAddForm(request.POST)
    if not form.is_valid():
        return _respond(request, message="Choose a song to add.", ok=False)
    data = form.cleaned_data
    try:
        entry = history_add(
            listener=_listener(request),
            track_id=data["track_id"],
            was_recommended=data["was_recommended"],
            recommendation_confidence=data["recommendation_confidence"],
            recommendation_id=data["recommendation_id"] or None,
        )
    except HistoryError as exc:
        return _respond(request, message=exc.message, ok=False)
    return _respond(request, message=f"Added “{entry.track.title}”.", ok=True)


@require_POST
def remove(request: HtmxHttpRequest) -> HttpResponse:
    form = HistoryRemoveForm(request.POST)
    if not form.is_valid():
        return _respond(request, message="Choose a song to remove.", ok=False)
    try:
        history_remove(listener=_listener(request), track_id=form.cleaned_data["track_id"])
    except HistoryError as exc:
        return _respond(request, message=exc.message, ok=False)
    return _respond(request, message="Removed from your history.", ok=True)
