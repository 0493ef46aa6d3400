"""A web worker starts without the heavy libraries only training and imports need."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.conf import settings

#: torch trains the model, pandas reads FMA files, matplotlib draws evaluation plots, pymongo
#: is only needed when MONGODB_URL is set, implicit is an evaluation baseline.
HEAVY_MODULES = ("torch", "pandas", "matplotlib", "pymongo", "implicit")

STARTUP = """
import json, sys
import django
django.setup()
from musicrec.wsgi import application
from django.test import Client
from django.urls import get_resolver
get_resolver().url_patterns  # every view module, the admin and the API
Client().get("/healthz")
print(json.dumps(sorted(m for m in HEAVY if m in sys.modules)))
"""


def test_web_process_imports_no_heavy_library() -> None:
    result = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY_MODULES!r}\n{STARTUP}"],
        env={
            "PATH": os.environ.get("PATH", ""),
            "DEBUG": "true",
            "DJANGO_SETTINGS_MODULE": "musicrec.settings",
        },
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
