"""What the control panel says about Celery beat's schedules: when each runs, in
words; which are the system's own housekeeping and what switching one off
means; who changed which schedule (the admin's history, read back).
"""

from django.contrib.admin.models import LogEntry
from django.db.models import QuerySet
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

# The system's own tasks (by Celery task name), and what switching each off means.
SYSTEM_TASKS = {
    "lake.tasks.pipeline_runs_reap_task": (
        "Marks failed, every minute, the runs whose worker died and the queued runs no worker "
        "took. Off: such a run keeps showing “running” (or “queued”) until a new run is asked "
        "for, which reaps first; the panel and the freshness page are wrong until then."
    ),
    "celery.backend_cleanup": (
        "Celery's own: deletes expired task results from a result backend. Off: nothing is "
        "lost here, as the site keeps no task results (runs record their own state)."
    ),
}

UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))
PERIOD_SECONDS = {
    IntervalSchedule.DAYS: 86400,
    IntervalSchedule.HOURS: 3600,
    IntervalSchedule.MINUTES: 60,
    IntervalSchedule.SECONDS: 1,
    IntervalSchedule.MICROSECONDS: 1e-6,
}

# Admin log entries about these models are schedule changes.
SCHEDULE_MODELS = (PeriodicTask, CrontabSchedule, IntervalSchedule, SolarSchedule, ClockedSchedule)

TURNED = "Turned {state} from the control panel."


def system_task_note(task: PeriodicTask) -> str:
    """What the system task does and what switching it off means; "" for other tasks."""
    return SYSTEM_TASKS.get(task.task, "")


def interval_words(every: int, period: str) -> str:
    """ "every minute", "every 5 minutes", "every 2 hours": in the largest whole unit."""
    seconds = every * PERIOD_SECONDS.get(period, 1)
    for unit, size in UNITS:
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"every {unit}" if count == 1 else f"every {count} {unit}s"
    return f"every {every} {period}"


def crontab_words(crontab: CrontabSchedule) -> str:
    """The common crontabs in a few words ("daily at 02:00", "hourly at minute 5"),
    the others as django-celery-beat describes them."""
    minute, hour = crontab.minute, crontab.hour
    rest = (crontab.day_of_week, crontab.day_of_month, crontab.month_of_year)
    if all(part == "*" for part in rest) and minute.isdigit():
        if hour.isdigit():
            return f"daily at {int(hour):02d}:{int(minute):02d}"
        if hour == "*":
            return f"hourly at minute {int(minute)}"
    return crontab.human_readable


def crontab_expression(crontab: CrontabSchedule) -> str:
    parts = (
        crontab.minute,
        crontab.hour,
        crontab.day_of_month,
        crontab.month_of_year,
        crontab.day_of_week,
    )
    return " ".join(parts)


def schedule_words(task: PeriodicTask) -> str:
    """When ``task`` runs, in words."""
    if task.interval is not None:
        return interval_words(task.interval.every, task.interval.period)
    if task.crontab is not None:
        return crontab_words(task.crontab)
    return str(task.scheduler) if task.scheduler else "no schedule"


def schedule_change_list(*, user=None) -> QuerySet[LogEntry]:
    """Who added, changed or deleted a schedule, newest first: the control
    panel's switches and the admin's edits (both keep the admin's history)."""
    changes = LogEntry.objects.filter(
        content_type__app_label=PeriodicTask._meta.app_label,
        content_type__model__in=[model._meta.model_name for model in SCHEDULE_MODELS],
    ).select_related("user", "content_type")
    if user is not None:
        changes = changes.filter(user=user)
    return changes.order_by("-action_time", "-pk")
