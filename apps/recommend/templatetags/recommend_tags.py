"""``{% recommendation_card %}``: the top recommendation, wherever the search results render.

The catalog's results partial includes ``recommend/_card.html``, which uses this tag, so the
catalog views need not know about the recommender.
"""

from __future__ import annotations

from typing import Any

from django import template

from apps.accounts.identity import get_listener
from apps.recommend.selectors import similar_for_display, top_recommendation

register = template.Library()


@register.inclusion_tag("recommend/_card_body.html", takes_context=True)
def recommendation_card(context: template.Context) -> dict[str, Any]:
    request = context.get("request")
    listener = get_listener(request) if request is not None else None
    return {
        "recommendation": top_recommendation(listener=listener),
        "csrf_token": context.get("csrf_token"),
        "history_full": context.get("history_full", False),
    }


@register.inclusion_tag("recommend/_similar_body.html", takes_context=True)
def similar_tracks_list(context: template.Context, track_id: int) -> dict[str, Any]:
    return {
        "similar": similar_for_display(track_id=track_id),
        "csrf_token": context.get("csrf_token"),
        "history_full": context.get("history_full", False),
        "history_track_ids": context.get("history_track_ids", ()),
    }
