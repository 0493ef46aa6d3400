"""``manage.py ensure_model`` (run by ``make run``): train once when listener data exists.

With no listener data the catalog's popularity and the demographic predictor answer, so the
site works before any model is trained.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.accounts.models import Listener
from apps.recommend.models import ModelVersion
from apps.recommend.training import model_train


class Command(BaseCommand):
    help = "Train a first model if listeners have histories and no model exists yet."

    def handle(self, *args: Any, **options: Any) -> None:
        if ModelVersion.objects.filter(status=ModelVersion.Status.READY).exists():
            self.stdout.write("A trained model exists: the recommender is ready.")
            return
        if not Listener.objects.filter(history__isnull=False).exists():
            self.stdout.write(
                "No listener histories yet: recommendations come from FMA popularity and "
                "demographics. (Try `manage.py seed_demo_listeners` then `manage.py train` to "
                "see the model work.)"
            )
            return
        result = model_train()
        self.stdout.write(result.skipped or f"Trained {result.version}.")
