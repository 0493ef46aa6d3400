"""musicrec: an open music recommendation website."""

from __future__ import annotations

from musicrec.celery import app as celery_app

__all__ = ["celery_app"]
