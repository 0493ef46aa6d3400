"""``manage.py seed_demo_listeners``: synthetic listeners with plausible histories (demo only)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.recommend.demo import demo_listeners_delete, demo_listeners_seed


class Command(BaseCommand):
    help = (
        "Create clearly labelled synthetic listeners (is_synthetic=True) with genre-coherent, "
        "demographic-skewed histories, so the model has something to learn from in a demo."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, default=300)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--delete", action="store_true", help="remove all demo listeners")
        parser.add_argument(
            "--allow-production", action="store_true", help="seed even with DEBUG off"
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["delete"]:
            self.stdout.write(f"Deleted {demo_listeners_delete()} demo records.")
            return
        if not settings.DEBUG and not opts["allow_production"]:
            raise CommandError(
                "DEBUG is off: demo listeners would mix with real ones. "
                "Pass --allow-production if you really mean it."
            )
        result = demo_listeners_seed(count=opts["count"], seed=opts["seed"])
        if result.listeners == 0:
            raise CommandError("No genre has enough tracks: import the catalog first.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {result.listeners} demo listeners with {result.entries} history entries "
                f"over {result.genres} genres. Run `manage.py train` to train on them."
            )
        )
