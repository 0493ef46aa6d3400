"""The anonymous listener.

A listener has no name, e-mail, password or IP address: the session cookie (browser) or an API
token (scripts) is how they come back. Only demographics and the history tie to a profile.
"""

from __future__ import annotations

import uuid

from django.db import models
from django_countries.fields import CountryField

from apps.accounts.rules import (
    AGE_MAX,
    AGE_MIN,
    Gender,
    Occupation,
    validate_age,
    validate_country,
    validate_gender,
    validate_occupation,
)


class Listener(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    age = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[validate_age], help_text=f"{AGE_MIN}-{AGE_MAX}"
    )
    gender = models.CharField(
        max_length=2, choices=Gender.choices, blank=True, validators=[validate_gender]
    )
    country = CountryField(blank=True, validators=[validate_country])
    occupation = models.CharField(
        max_length=32, choices=Occupation.choices, blank=True, validators=[validate_occupation]
    )
    demographics_completed_at = models.DateTimeField(null=True, blank=True)
    # Demo listeners made by `manage.py seed_demo_listeners`, never by a person.
    is_synthetic = models.BooleanField(
        default=False, help_text="created by seed_demo_listeners for demonstrations"
    )

    # The recommender keys its cache on these: a change to either makes old entries unreachable.
    demographics_version = models.PositiveIntegerField(default=0)
    history_version = models.PositiveIntegerField(default=0)

    # sha256 of the token; the token itself is shown once and never stored.
    api_token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    api_token_created_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["country"], name="listener_country_idx"),
            models.Index(fields=["gender", "age"], name="listener_gender_age_idx"),
        ]

    def __str__(self) -> str:
        return f"Listener {self.public_id}"

    @property
    def has_demographics(self) -> bool:
        return self.demographics_completed_at is not None

    # DRF's permission classes ask ``request.user.is_authenticated``: an identified listener is.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False
