"""Template variables every page gets: the listener's history state (the panel, Add buttons)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from apps.history.selectors import history_summary_for_request


def history(request: HttpRequest) -> dict[str, Any]:
    summary = history_summary_for_request(request)
    return {
        "history": summary,
        "history_entries": summary.entries,
        "history_count": summary.count,
        "history_limit": summary.limit,
        "history_slots_left": summary.slots_left,
        "history_full": summary.full,
        "history_warning": summary.warning,
        "history_track_ids": summary.track_ids,
    }
