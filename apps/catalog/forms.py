from __future__ import annotations

from django import forms

from apps.catalog.selectors import MAX_QUERY_CHARS


class SearchForm(forms.Form):
    # No max_length: a pasted essay is cut, not refused (the selector reads MAX_QUERY_CHARS).
    q = forms.CharField(required=False, strip=True, label="Search songs, artists, albums")

    def clean_q(self) -> str:
        value: str = self.cleaned_data.get("q") or ""
        return value[:MAX_QUERY_CHARS]
