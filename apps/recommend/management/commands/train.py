"""``manage.py train``: train the recommender on everything listeners did (as the Celery task)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.recommend.training import model_train


class Command(BaseCommand):
    help = "Train the recommendation model and register it as the newest version."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force", action="store_true", help="train even if the data has not changed"
        )
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args: Any, force: bool, seed: int, **options: Any) -> None:
        result = model_train(force=force, seed=seed)
        if result.skipped:
            self.stdout.write(f"Nothing trained: {result.skipped}.")
            return
        version = result.version
        assert version is not None
        self.stdout.write(
            self.style.SUCCESS(
                f"Trained {version.version} on {version.n_interactions} interactions from "
                f"{version.n_listeners} listeners over {version.n_tracks} tracks "
                f"in {version.training_seconds:.1f} s."
            )
        )
        ndcg = version.metrics.get("validation_ndcg10", {})
        quality = version.metrics.get("quality", {})
        for name, value in sorted(ndcg.items()):
            weight = f"  blend weight {quality[name]:.2f}" if name in quality else ""
            self.stdout.write(f"  {name:12s} held-out NDCG@10 {value:.4f}{weight}")
