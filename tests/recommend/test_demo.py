"""seed_demo_listeners: labelled, plausible, and enough for the model to learn from."""

from __future__ import annotations

from collections import Counter

import pytest
from django.core.management import CommandError, call_command

from apps.accounts.models import Listener
from apps.history.models import HISTORY_LIMIT
from apps.recommend.training import model_train
from tests.recommend.fixtures import PlantedCatalog


@pytest.mark.django_db
def test_seeded_listeners_are_labelled_and_genre_coherent(
    planted_catalog: PlantedCatalog, settings: object
) -> None:
    settings.DEBUG = True  # type: ignore[attr-defined]
    call_command("seed_demo_listeners", count=40, seed=1)
    listeners = Listener.objects.filter(is_synthetic=True)
    assert listeners.count() == 40
    for listener in listeners:
        assert listener.has_demographics
        genres = Counter(listener.history.values_list("track__genre_top", flat=True))
        assert 8 <= sum(genres.values()) <= HISTORY_LIMIT
        assert len(genres) <= 2
    result = model_train()
    assert result.version is not None
    assert result.version.n_listeners == 40
    call_command("seed_demo_listeners", delete=True)
    assert not Listener.objects.filter(is_synthetic=True).exists()


@pytest.mark.django_db
def test_refuses_with_debug_off(planted_catalog: PlantedCatalog, settings: object) -> None:
    settings.DEBUG = False  # type: ignore[attr-defined]
    with pytest.raises(CommandError, match="DEBUG is off"):
        call_command("seed_demo_listeners", count=1)
