"""Project-wide test set-up: service markers and shared fixtures.

Tests that need a real service are marked (``postgres``, ``redis``, ``mongodb``, ``e2e``) and skip
with the reason when it is not configured, so the embedded pass (`make test` on a bare machine)
and the services pass (CI with DATABASE_URL/REDIS_URL) run the same suite.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

if TYPE_CHECKING:
    from rest_framework.test import APIClient

    from apps.accounts.models import Listener

# Shared fixtures that live in their own modules (a planted catalog with genre fans ...).
pytest_plugins = ["tests.recommend.fixtures"]

CHROMIUM = Path("/usr/bin/chromium")
SHARED_DATA = Path(settings.EVALUATION_DATA_DIR)


def _skip_reason(item: pytest.Item) -> str | None:
    if item.get_closest_marker("postgres") and not settings.DATABASES["default"]["ENGINE"].endswith(
        "postgresql"
    ):
        return "needs PostgreSQL: set DATABASE_URL=postgres://... (the CI services pass does)"
    if item.get_closest_marker("redis") and not settings.REDIS_URL:
        return "needs Redis: set REDIS_URL=redis://... (the CI services pass does)"
    if item.get_closest_marker("mongodb") and not settings.MONGODB_URL:
        return "needs a real MongoDB server: set MONGODB_URL=mongodb://..."
    if item.get_closest_marker("e2e") and not (CHROMIUM.exists() or shutil.which("chromium")):
        return "needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium)"
    if item.get_closest_marker("shared_data") and not SHARED_DATA.exists():
        return f"needs the shared datasets at {SHARED_DATA} (EVALUATION_DATA_DIR)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        reason = _skip_reason(item)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True)
def _celery_eager() -> Iterator[None]:
    """Tasks run inline in tests, even when a broker is configured (the services pass).

    The one test that needs a real worker (tests/platform/test_celery.py) switches this off.
    """
    from musicrec.celery import app

    was_eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = was_eager


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    """Each test starts with an empty cache (rate-limit counters, cached recommendations)."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _model_dir(tmp_path: Path, settings: pytest.FixtureRequest) -> None:
    """Each test gets its own model directory, so no test sees another's trained model."""
    settings.MODEL_DIR = tmp_path / "models"  # type: ignore[attr-defined]
    from apps.recommend import registry

    registry.reset()


@pytest.fixture
def test_output_dir() -> Path:
    """Where tests keep artefacts worth looking at (screenshots): test-output/ in the repo."""
    path = Path(os.environ.get("TEST_OUTPUT_DIR", settings.BASE_DIR / "test-output"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def login_listener(client: Client, listener: Listener) -> Client:
    """Tie ``listener`` to the test client's session, as the welcome form does."""
    from apps.accounts.identity import SESSION_KEY

    session = client.session
    session[SESSION_KEY] = listener.pk
    session.save()
    return client


@pytest.fixture
def listener(db: None) -> Listener:
    """A listener who has completed demographics."""
    from tests.factories import make_listener

    return make_listener()


@pytest.fixture
def listener_client(client: Client, listener: Listener) -> Client:
    """A test client whose anonymous listener (the ``listener`` fixture) has completed demographics.

    Pages listeners use are gated behind the demographics form; tests of those pages use this
    fixture.
    """
    return login_listener(client, listener)


@pytest.fixture
def api_client_for(db: None) -> Callable[[Listener], APIClient]:
    """``api_client_for(listener)``: a DRF client sending that listener's API token."""
    from rest_framework.test import APIClient

    from apps.accounts.services import api_token_rotate

    def make(listener: Listener) -> APIClient:
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {api_token_rotate(listener=listener)}")
        return api

    return make
