"""Start-up fails on malformed configuration, naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings

BASE_ENV = {"PATH": os.environ.get("PATH", ""), "DEBUG": "true"}


def load_settings(**env: str) -> subprocess.CompletedProcess[str]:
    """Import the settings module in a fresh interpreter with exactly ``env``."""
    return subprocess.run(
        [sys.executable, "-c", "import musicrec.settings"],
        env={**BASE_ENV, **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )


def test_defaults_need_no_service() -> None:
    result = load_settings()
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEBUG", "maybe"),
        ("DATABASE_URL", "mysql://root@localhost/db"),
        ("DATABASE_URL", "postgres://host:notaport/db"),
        ("REDIS_URL", "http://localhost:6379"),
        ("CELERY_BROKER_URL", "kafka://localhost"),
        ("MONGODB_URL", "localhost:27017"),
        ("RATE_LIMIT_PER_MINUTE", "lots"),
        ("RATE_LIMIT_PER_MINUTE", "-5"),
        ("LOG_LEVEL", "LOUD"),
    ],
)
def test_malformed_value_names_the_variable(name: str, value: str) -> None:
    result = load_settings(**{name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{name}:" in result.stderr


def test_secret_key_required_when_debug_is_off() -> None:
    result = load_settings(DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY: required when DEBUG is off" in result.stderr
    assert load_settings(DEBUG="false", SECRET_KEY="x" * 50).returncode == 0


def test_services_are_chosen_from_urls() -> None:
    code = (
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CACHES['default']['BACKEND'],"
        " s.CELERY_TASK_ALWAYS_EAGER, s.CELERY_BROKER_URL)"
    )
    env = {
        **BASE_ENV,
        "DJANGO_SETTINGS_MODULE": "musicrec.settings",
        "DATABASE_URL": "postgres://u@db.example:5432/m",
        "REDIS_URL": "redis://cache.example:6379/1",
    }
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    engine, cache_backend, eager, broker = result.stdout.split()
    assert engine == "django.db.backends.postgresql"
    assert cache_backend == "django_redis.cache.RedisCache"
    assert eager == "False"
    assert broker == "redis://cache.example:6379/1"
