"""The default schedules (editable in the admin), the lock row, and role permissions.

- nightly full run at 02:00, hourly incremental run at minute 5;
- the stale-run reaper every minute.
"""

import json

from django.db import migrations

from sakila_site.roles import sync_role_permissions

SCHEDULES = [
    # (name, task, kwargs, crontab minute/hour or interval seconds)
    ("Nightly full lake run", "lake.tasks.pipeline_run_scheduled_task", {"full": True}, ("0", "2")),
    (
        "Hourly incremental lake run",
        "lake.tasks.pipeline_run_scheduled_task",
        {"full": False},
        ("5", "*"),
    ),
    ("Reap dead lake runs", "lake.tasks.pipeline_runs_reap_task", {}, 60),
]


def create_schedules(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PipelineLock = apps.get_model("lake", "PipelineLock")
    PipelineLock.objects.get_or_create(pk=1)
    for name, task, kwargs, when in SCHEDULES:
        if isinstance(when, int):
            interval, _ = IntervalSchedule.objects.get_or_create(every=when, period="seconds")
            schedule = {"interval": interval}
        else:
            minute, hour = when
            crontab, _ = CrontabSchedule.objects.get_or_create(
                minute=minute, hour=hour, day_of_week="*", day_of_month="*", month_of_year="*"
            )
            schedule = {"crontab": crontab}
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "kwargs": json.dumps(kwargs), **schedule}
        )


def delete_schedules(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[name for name, *_ in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("lake", "0002_runs_cancel_audit_lock"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        ("rentals", "0004_roles"),
    ]

    operations = [
        migrations.RunPython(create_schedules, delete_schedules),
        migrations.RunPython(sync_role_permissions, migrations.RunPython.noop),
    ]
