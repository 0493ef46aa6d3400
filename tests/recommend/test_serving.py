"""Serving: fallbacks, exclusion of the history, the cache, the card, and model versions."""

from __future__ import annotations

from collections import Counter

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from apps.accounts.models import Listener
from apps.catalog.models import Track
from apps.history.services import history_add
from apps.recommend import adapters, registry
from apps.recommend.models import ModelVersion
from apps.recommend.services import _cache_key, recommendations_for
from apps.recommend.training import model_train
from tests.factories import make_artist, make_listener, make_track
from tests.recommend.fixtures import PlantedCatalog, give_history


@pytest.mark.django_db
def test_without_any_model_the_catalog_prior_answers(planted_catalog: PlantedCatalog) -> None:
    listener = make_listener()
    result = recommendations_for(listener=listener, n=10)
    assert result.model_version.startswith("prior-")
    assert len(result.items) == 10
    assert all(0.0 <= item.confidence <= 1.0 and item.reason for item in result.items)
    assert registry.model_status()[0] == "degraded"


@pytest.mark.django_db
def test_before_training_the_web_process_fits_only_cheap_predictors(
    genre_fans: list[Listener],
) -> None:
    """Listener data exists but no model: serving must not train torch in the request."""
    engine = registry.get_engine()
    assert engine.version.startswith("prior-")
    assert set(engine.bundle.predictors) == {"popularity", "demographic"}
    listener = genre_fans[0]
    assert recommendations_for(listener=listener, n=5).items


@pytest.mark.django_db
def test_never_recommends_history_tracks(planted_catalog: PlantedCatalog) -> None:
    listener = make_listener()
    history = planted_catalog.tracks_by_genre[0][:20]
    give_history(listener, history)
    result = recommendations_for(listener=listener, n=50)
    assert result.items
    assert not {item.track_id for item in result.items} & {t.id for t in history}


@pytest.mark.django_db
def test_at_most_two_tracks_per_artist_in_top_ten() -> None:
    busy = make_artist(name="Prolific")
    for i in range(20):
        make_track(title=f"Hit {i}", artist=busy, listens=10_000 - i)
    for i in range(20):
        make_track(title=f"Other {i}", listens=10 + i)
    result = recommendations_for(listener=make_listener(), n=10)
    artists = Counter(Track.objects.get(id=item.track_id).artist_id for item in result.items)
    assert len(result.items) == 10
    assert artists[busy.id] == 2


@pytest.mark.django_db
def test_trained_model_recommends_the_listeners_genre(genre_fans: list[Listener]) -> None:
    result = model_train()
    assert result.version is not None and result.version.status == ModelVersion.Status.READY
    assert (settings.MODEL_DIR / result.version.filename).exists()
    newcomer = make_listener(age=30, gender="F")
    catalog_genre = genre_fans[0].history.first().track.genre_top_id  # type: ignore[union-attr]
    seed_tracks = Track.objects.filter(genre_top_id=catalog_genre).order_by("id")[:5]
    give_history(newcomer, list(seed_tracks))
    top = recommendations_for(listener=newcomer, n=5).items
    genres = [Track.objects.get(id=item.track_id).genre_top_id for item in top]
    assert genres.count(catalog_genre) >= 4, genres
    assert registry.model_status()[0] == "ok"


@pytest.mark.django_db
def test_training_is_skipped_when_nothing_changed(genre_fans: list[Listener]) -> None:
    first = model_train()
    again = model_train()
    assert again.skipped == "no new data since the last model"
    assert again.version == first.version
    assert model_train(force=True).version != first.version


@pytest.mark.django_db
def test_a_new_bundle_format_retrains_the_same_data(
    genre_fans: list[Listener], monkeypatch: pytest.MonkeyPatch
) -> None:
    """After an upgrade the old bundle cannot load, so "no new data" must not skip training."""
    first = model_train()
    monkeypatch.setattr(adapters, "BUNDLE_FORMAT_VERSION", adapters.BUNDLE_FORMAT_VERSION + 1)
    again = model_train()
    assert again.skipped == ""
    assert again.version != first.version


@pytest.mark.django_db
def test_corrupted_artifact_is_refused_and_previous_model_keeps_serving(
    genre_fans: list[Listener],
) -> None:
    good = model_train().version
    assert good is not None
    assert registry.get_engine().version == good.version
    bad = model_train(force=True).version
    assert bad is not None
    path = settings.MODEL_DIR / bad.filename
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # truncated
    registry.reset()
    assert registry.get_engine().version == good.version
    bad.refresh_from_db()
    assert bad.status == ModelVersion.Status.REJECTED
    assert "checksum" in bad.error


@pytest.mark.django_db
def test_cache_is_used_and_dropped_on_add_and_demographics_change(
    planted_catalog: PlantedCatalog,
) -> None:
    listener = make_listener()
    first = recommendations_for(listener=listener, n=5)
    key = _cache_key(listener, first.model_version, 5)
    assert cache.get(key) is not None
    top = first.items[0].track_id
    history_add(listener=listener, track_id=top)
    listener.refresh_from_db()
    assert cache.get(_cache_key(listener, first.model_version, 5)) is None
    after_add = recommendations_for(listener=listener, n=5)
    assert top not in {item.track_id for item in after_add.items}

    from apps.accounts.services import demographics_update
    from tests.factories import make_demographics

    before_version = listener.demographics_version
    demographics_update(listener=listener, demographics=make_demographics(age=61, gender="M"))
    listener.refresh_from_db()
    assert listener.demographics_version == before_version + 1
    assert cache.get(_cache_key(listener, first.model_version, 5)) is None


@pytest.mark.django_db
def test_adding_a_song_changes_the_card(genre_fans: list[Listener], client: Client) -> None:
    from tests.conftest import login_listener

    model_train()
    listener = make_listener(age=30, gender="F")
    login_listener(client, listener)
    first = _card(client)
    assert "% match" in first
    top_id = recommendations_for(listener=listener, n=1).items[0].track_id
    assert f'name="track_id" value="{top_id}"' in first
    response = client.post("/history/add", {"track_id": top_id}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "historyChanged" in response["HX-Trigger"]  # the results (and card) reload on it
    second = _card(client)
    assert "% match" in second
    assert f'name="track_id" value="{top_id}"' not in second


def _card(client: Client) -> str:
    """The recommendation card inside the search results partial (what htmx swaps in)."""
    response = client.get("/search", {"q": "Song"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index('id="recommendation-card"')
    return html[start : html.index("</section>", start)]
