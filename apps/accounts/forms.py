"""The demographics form: fields and validators come from ``apps.accounts.rules``."""

from __future__ import annotations

from typing import Any

from django import forms
from django_countries import countries

from apps.accounts.rules import (
    AGE_DEFAULT,
    AGE_MAX,
    AGE_MIN,
    Gender,
    Occupation,
    unexpected_fields,
    validate_age,
    validate_country,
    validate_gender,
    validate_occupation,
)
from apps.accounts.services import Demographics

# Keys a browser sends besides the fields themselves.
FORM_CONTROL_KEYS = ("csrfmiddlewaretoken", "next")


class DemographicsForm(forms.Form):
    age = forms.IntegerField(
        label="Age",
        validators=[validate_age],
        initial=AGE_DEFAULT,
        widget=forms.NumberInput(
            attrs={
                "type": "range",
                "min": AGE_MIN,
                "max": AGE_MAX,
                "step": 1,
                "required": True,
                "aria-describedby": "age-output",
                # Shows the slider's number as it moves (no script file needed).
                "oninput": "document.getElementById('age-output').value = this.value",
            }
        ),
    )
    gender = forms.ChoiceField(
        label="Gender",
        choices=Gender.choices,
        validators=[validate_gender],
        widget=forms.RadioSelect,
    )
    country = forms.ChoiceField(
        label="Country",
        choices=[("", "Choose your country…"), *countries],
        validators=[validate_country],
    )
    occupation = forms.ChoiceField(
        label="Occupation",
        choices=[("", "Choose your occupation…"), *Occupation.choices],
        validators=[validate_occupation],
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        extra = unexpected_fields(self.data.keys(), allowed=FORM_CONTROL_KEYS)
        if extra:
            raise forms.ValidationError(f"Unexpected field: {', '.join(extra)}.", code="unexpected")
        return cleaned

    def demographics(self) -> Demographics:
        data = self.cleaned_data
        return Demographics(
            age=data["age"],
            gender=data["gender"],
            country=data["country"],
            occupation=data["occupation"],
        )
