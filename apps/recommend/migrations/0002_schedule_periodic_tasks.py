"""Create the recommender's Celery beat schedules (editable afterwards in the admin).

Runs twice safely: rows are looked up by name and only created when missing.
"""

from __future__ import annotations

from django.db import migrations

SCHEDULES = [
    # (name, task, every N minutes or None, crontab (minute, hour) or None)
    ("Refresh popularity", "apps.recommend.tasks.refresh_popularity", 5, None),
    ("Refresh ensemble confidence", "apps.recommend.tasks.refresh_ensemble_confidence", 60, None),
    ("Retrain model nightly", "apps.recommend.tasks.train_model", None, ("30", "3")),
]


def create_schedules(apps, schema_editor):  # type: ignore[no-untyped-def]
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, minutes, cron in SCHEDULES:
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        if minutes is not None:
            interval, _ = IntervalSchedule.objects.get_or_create(every=minutes, period="minutes")
            PeriodicTask.objects.create(name=name, task=task, interval=interval)
        else:
            minute, hour = cron
            crontab, _ = CrontabSchedule.objects.get_or_create(
                minute=minute,
                hour=hour,
                day_of_week="*",
                day_of_month="*",
                month_of_year="*",
                timezone="UTC",
            )
            PeriodicTask.objects.create(name=name, task=task, crontab=crontab)


def remove_schedules(apps, schema_editor):  # type: ignore[no-untyped-def]
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[name for name, *_ in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("recommend", "0001_model_versions_and_quality"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
