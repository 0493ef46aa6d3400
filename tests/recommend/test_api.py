"""The recommendations API: own results only, validated input, common error shape."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import Listener
from apps.history.eventstore import get_event_store
from tests.factories import make_listener
from tests.recommend.fixtures import PlantedCatalog, give_history


@pytest.mark.django_db
def test_recommendations_exclude_history_and_are_logged(
    planted_catalog: PlantedCatalog, api_client_for: Callable[[Listener], APIClient]
) -> None:
    listener = make_listener()
    history = planted_catalog.tracks_by_genre[1][:5]
    give_history(listener, history)
    response = api_client_for(listener).get("/api/recommendations", {"n": 7})
    assert response.status_code == 200
    body = response.json()
    assert len(body["results"]) == 7
    assert not {r["track_id"] for r in body["results"]} & {t.id for t in history}
    first = body["results"][0]
    assert {"title", "artist", "confidence", "reason", "shares"} <= set(first)
    logs = get_event_store().prediction_logs_for(listener.id)
    assert [log.log_id for log in logs] == [body["recommendation_id"]]
    assert logs[0].context["history_size"] == 5
    assert all(p.was_shown for p in logs[0].predictions)


@pytest.mark.django_db
def test_adding_a_recommendation_marks_it_selected(
    planted_catalog: PlantedCatalog,
    api_client_for: Callable[[Listener], APIClient],
    django_capture_on_commit_callbacks: Callable[..., object],
) -> None:
    listener = make_listener()
    api = api_client_for(listener)
    body = api.get("/api/recommendations", {"n": 3}).json()
    pick = body["results"][0]
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[attr-defined]
        added = api.post(
            "/api/history",
            {
                "track_id": pick["track_id"],
                "was_recommended": True,
                "recommendation_confidence": pick["confidence"],
                "recommendation_id": body["recommendation_id"],
            },
            format="json",
        )
    assert added.status_code == 201, added.json()
    log = get_event_store().prediction_logs_for(listener.id)[0]
    selected = [p.track for p in log.predictions if p.was_selected]
    assert selected == [pick["track_id"]]


@pytest.mark.django_db
def test_count_is_validated(
    planted_catalog: PlantedCatalog, api_client_for: Callable[[Listener], APIClient]
) -> None:
    response = api_client_for(make_listener()).get("/api/recommendations", {"n": 0})
    assert response.status_code == 400
    assert "n" in response.json()["error"]["fields"]


@pytest.mark.django_db
def test_without_demographics_the_api_names_the_missing_step(client: object) -> None:
    response = APIClient().get("/api/recommendations")
    assert response.status_code == 403
    assert "demographics" in response.json()["error"]["message"].lower()


@pytest.mark.django_db
def test_outsider_gets_their_own_recommendations_only(
    planted_catalog: PlantedCatalog, api_client_for: Callable[[Listener], APIClient]
) -> None:
    owner, outsider = make_listener(), make_listener()
    owner_history = planted_catalog.tracks_by_genre[0][:10]
    give_history(owner, owner_history)
    body = api_client_for(outsider).get("/api/recommendations", {"n": 20}).json()
    # The outsider's list is computed for an empty history: owner's tracks are not excluded.
    returned = {r["track_id"] for r in body["results"]}
    assert returned & {t.id for t in owner_history}
    assert get_event_store().prediction_logs_for(owner.id) == []


@pytest.mark.django_db
def test_batch_scores_several_contexts(
    planted_catalog: PlantedCatalog, api_client_for: Callable[[Listener], APIClient]
) -> None:
    history = [t.id for t in planted_catalog.tracks_by_genre[2][:3]]
    response = api_client_for(make_listener()).post(
        "/api/recommendations/batch",
        {"contexts": [{"history": history, "age": 40, "gender": "M"}, {"country": "FR"}], "n": 4},
        format="json",
    )
    assert response.status_code == 200, response.json()
    results = response.json()["results"]
    assert [len(r) for r in results] == [4, 4]
    assert not {r["track_id"] for r in results[0]} & set(history)


@pytest.mark.django_db
def test_batch_rejects_bad_contexts(
    planted_catalog: PlantedCatalog, api_client_for: Callable[[Listener], APIClient]
) -> None:
    response = api_client_for(make_listener()).post(
        "/api/recommendations/batch",
        {"contexts": [{"age": 7, "country": "ZZ"}]},
        format="json",
    )
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert "contexts.0.age" in fields and "contexts.0.country" in fields


@pytest.mark.django_db
def test_similar_tracks(planted_catalog: PlantedCatalog, genre_fans: list[Listener]) -> None:
    from apps.recommend.training import model_train

    model_train()
    track = planted_catalog.tracks_by_genre[0][0]
    response = APIClient().get(f"/api/tracks/{track.id}/similar", {"n": 5})
    assert response.status_code == 200
    similar = response.json()
    assert 1 <= len(similar) <= 5
    genre_ids = {t.id for t in planted_catalog.tracks_by_genre[0]}
    assert sum(item["track_id"] in genre_ids for item in similar) >= len(similar) - 1
    assert APIClient().get("/api/tracks/999999999/similar").status_code == 404
