"""The Add/Remove forms posted by track cards, the recommendation card and the history panel."""

from __future__ import annotations

from django import forms


class HistoryAddForm(forms.Form):
    track_id = forms.IntegerField(min_value=1)
    # Set by the recommendation card, so events say what the recommender got right.
    was_recommended = forms.BooleanField(required=False)
    recommendation_confidence = forms.FloatField(required=False, min_value=0.0, max_value=1.0)
    recommendation_id = forms.CharField(required=False, max_length=64)


class HistoryRemoveForm(forms.Form):
    track_id = forms.IntegerField(min_value=1)
