"""What the control panel says about Celery beat's schedules: when each runs, in
words; which are the system's own housekeeping and what switching one off
means; who changed which schedule (the admin's history, read back).
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.db.models import QuerySet
from django.utils import timezone
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


# --- The schedules as beat runs them ----------------------------------------------------


@dataclass(frozen=True)
class Schedule:
    task: PeriodicTask
    description: str  # the schedule in words
    last_run_at: datetime | None  # naive local time
    next_run_at: datetime | None  # naive local time; None when disabled or never again
    expression: str = ""  # a crontab's five fields
    system_note: str = ""  # a system task: what it does, what switching it off means


def schedule_list(*, now: datetime | None = None) -> list[Schedule]:
    """The Celery beat schedules, with their next run time as beat computes it."""
    tasks = PeriodicTask.objects.select_related("crontab", "interval", "solar", "clocked")
    return [_schedule(task, now) for task in tasks.order_by("name")]


def _schedule(task: PeriodicTask, now: datetime | None) -> Schedule:
    local = timezone.get_default_timezone()
    tz_aware = getattr(settings, "DJANGO_CELERY_BEAT_TZ_AWARE", True)
    last_run = task.last_run_at
    if last_run is not None and timezone.is_naive(last_run):
        # Without DJANGO_CELERY_BEAT_TZ_AWARE, beat stores utcnow() (naive UTC).
        last_run = last_run.replace(tzinfo=UTC)
    last_run_local = timezone.make_naive(last_run, local) if last_run else None
    description = schedule_words(task)
    if task.crontab is not None and not tz_aware:
        # beat reads the crontab in the site's time zone, not its own
        description = description.removesuffix(f" {task.crontab.timezone}")
    next_run = None
    if task.enabled and task.scheduler is not None and not (task.one_off and task.total_run_count):
        if task.clocked is not None:
            next_run = task.clocked.clocked_time
        else:
            next_run = _next_run(task, last_run, now)
    expression = crontab_expression(task.crontab) if task.crontab else ""
    note = system_task_note(task)
    return Schedule(task, description, last_run_local, next_run, expression, note)


def _next_run(task: PeriodicTask, last_run: datetime | None, now: datetime | None) -> datetime:
    """When beat will next send the task: ``remaining_estimate`` from its last run."""
    local = timezone.get_default_timezone()
    schedule = task.schedule
    now_aware = timezone.make_aware(now, local) if now else schedule.now()
    if hasattr(schedule, "nowfun"):
        schedule.nowfun = lambda: now_aware
    remaining = schedule.remaining_estimate(last_run or now_aware)
    due = now_aware + max(remaining, timedelta(0))
    if task.start_time is not None:
        start = task.start_time
        start = timezone.make_aware(start, local) if timezone.is_naive(start) else start
        due = max(due, start)
    return timezone.make_naive(due, local)
