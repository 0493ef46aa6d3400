"""The demographics rules: one source for the HTML form, the API serializer and the model.

Choices, bounds and validators live here once. The form and the serializer both build their
fields from these and call the same validators, so a rule changed here changes everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import models
from django_countries import countries

AGE_MIN = 13
AGE_MAX = 100
AGE_DEFAULT = 30  # where the slider starts; the listener moves it

DEMOGRAPHIC_FIELDS = ("age", "gender", "country", "occupation")


class Gender(models.TextChoices):
    MALE = "M", "Male"
    FEMALE = "F", "Female"
    NON_BINARY = "NB", "Non-binary"
    OTHER = "O", "Other"


class Occupation(models.TextChoices):
    STUDENT = "student", "Student"
    EDUCATION = "education", "Education and research"
    HEALTHCARE = "healthcare", "Healthcare"
    TECHNOLOGY = "technology", "Technology and IT"
    ENGINEERING = "engineering", "Engineering"
    SCIENCE = "science", "Science"
    ARTS = "arts", "Arts, music and design"
    MEDIA = "media", "Media and communications"
    BUSINESS = "business", "Business and management"
    FINANCE = "finance", "Finance and accounting"
    SALES = "sales", "Sales and marketing"
    LEGAL = "legal", "Legal"
    PUBLIC_SERVICE = "public_service", "Government and public service"
    HOSPITALITY = "hospitality", "Hospitality and food service"
    RETAIL = "retail", "Retail and customer service"
    TRADES = "trades", "Skilled trades and construction"
    MANUFACTURING = "manufacturing", "Manufacturing and logistics"
    AGRICULTURE = "agriculture", "Agriculture and environment"
    HOMEMAKER = "homemaker", "Homemaker or carer"
    RETIRED = "retired", "Retired"
    UNEMPLOYED = "unemployed", "Between jobs"
    OTHER = "other", "Other"


def validate_age(value: int) -> None:
    if not AGE_MIN <= value <= AGE_MAX:
        raise ValidationError(
            f"Age must be between {AGE_MIN} and {AGE_MAX}.", code="age_out_of_range"
        )


def validate_gender(value: str) -> None:
    if value not in Gender.values:
        allowed = ", ".join(Gender.values)
        raise ValidationError(f"Choose one of {allowed}.", code="invalid_choice")


def validate_country(value: str) -> None:
    # django-countries keeps the ISO 3166-1 list up to date; "ZZ" and the like are not in it.
    if value not in dict(countries):
        raise ValidationError(
            "Choose a country by its ISO 3166-1 alpha-2 code (for example DE or BR).",
            code="invalid_country",
        )


def validate_occupation(value: str) -> None:
    if value not in Occupation.values:
        raise ValidationError("Choose an occupation from the list.", code="invalid_choice")


def unexpected_fields(keys: Iterable[str], *, allowed: Iterable[str] = ()) -> list[str]:
    """Submitted keys that are not demographics (a typo must not be silently dropped)."""
    known = set(DEMOGRAPHIC_FIELDS) | set(allowed)
    return sorted(key for key in keys if key not in known)
