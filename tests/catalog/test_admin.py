"""Catalog admin: lists with filters, the background import and its progress page."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.test import Client, RequestFactory
from django.urls import reverse

from apps.catalog.models import Artist, Track
from apps.catalog.services import ImportReport
from apps.catalog.tasks import import_progress

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("admin", "admin@example.org", "pw"))
    return client


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"audio": "yes"},
        {"audio": "no"},
        {"year__exact": "2008"},
        {"genre_top__id__exact": "12"},
        {"q": "awol"},
    ],
)
def test_track_changelist_with_filters(staff: Client, catalog: ImportReport, params: dict) -> None:
    response = staff.get(reverse("admin:catalog_track_changelist"), params)
    assert response.status_code == 200
    assert b"Import FMA metadata" in response.content


def test_audio_filter_filters(staff: Client, catalog: ImportReport) -> None:
    html = staff.get(reverse("admin:catalog_track_changelist"), {"audio": "yes"}).content.decode()
    assert "Freeway" in html and "Electric Ave" not in html


@pytest.mark.parametrize("model", ["artist", "album", "genre"])
def test_other_changelists(staff: Client, catalog: ImportReport, model: str) -> None:
    assert staff.get(reverse(f"admin:catalog_{model}_changelist")).status_code == 200


def test_fma_ids_are_read_only(staff: Client, catalog: ImportReport) -> None:
    html = staff.get(reverse("admin:catalog_track_change", args=[2])).content.decode()
    assert 'name="id"' not in html  # shown, not editable
    artist = Track.objects.get(id=2).artist
    html = staff.get(reverse("admin:catalog_artist_change", args=[artist.id])).content.decode()
    assert 'name="fma_id"' not in html


def test_artist_website_without_a_scheme_is_https(rf: RequestFactory, admin_user: User) -> None:
    request = rf.get("/")
    request.user = admin_user
    form_class = admin.site._registry[Artist].get_form(request)
    assert form_class.base_fields["website"].clean("example.org") == "https://example.org"


def test_import_from_admin_runs_the_task_and_shows_progress(
    staff: Client, fma_dir: Path, django_capture_on_commit_callbacks: object
) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        response = staff.post(reverse("admin:catalog_track_import"), {"path": str(fma_dir)})
    assert response.status_code == 302
    task_id = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    progress = import_progress(task_id)
    assert progress is not None and progress["state"] == "done"
    assert (progress["done"], progress["total"]) == (7, 7)
    assert progress["report"]["created"] == 7
    assert Track.objects.count() == 7
    page = " ".join(staff.get(response["Location"]).content.decode().split())
    assert "Created 7, updated 0, skipped 2" in page
    assert "track 48: track.duration: not a number" in page


def test_import_of_a_missing_folder_fails_cleanly(
    staff: Client, tmp_path: Path, django_capture_on_commit_callbacks: object
) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        response = staff.post(reverse("admin:catalog_track_import"), {"path": str(tmp_path)})
    task_id = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    progress = import_progress(task_id)
    assert progress is not None and progress["state"] == "failed"
    assert "tracks.csv" in progress["error"]


def test_import_pages_need_staff(client: Client, db: None) -> None:
    response = client.get(reverse("admin:catalog_track_import"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
