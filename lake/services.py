"""Orchestration of pipeline runs: request, cancel, retry, event-driven refresh.

The control panel, the API, schedules and desk activity all come through
here; the Celery tasks of ``lake.tasks`` do the work, queued only once the
transaction that asked for it has committed.
"""

import json
import logging
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from lake import selectors, tasks
from lake.engines import get_engine
from lake.models import PipelineLock, PipelineRun, PipelineRunEvent
from lake.pipeline.runner import AlreadyRunning, pipeline_run_create, run_event

logger = logging.getLogger(__name__)

ERROR_NOT_ACTIVE = "Run {run_id} is {status}: only a queued or running run can be cancelled."
ERROR_NOT_RETRYABLE = "Run {run_id} is {status}: only a failed or cancelled run can be retried."
# A pending refresh older than this is taken for lost (its task never ran).
REFRESH_LOST_AFTER = timedelta(minutes=2)

__all__ = [
    "AlreadyRunning",
    "RunStateError",
    "lake_refresh_request",
    "lake_refresh_start",
    "pipeline_run_cancel",
    "pipeline_run_request",
    "pipeline_run_retry",
    "schedule_save",
]


class RunStateError(Exception):
    """The run is not in a state that allows what was asked."""


def pipeline_run_request(
    *,
    full: bool = False,
    trigger: str = PipelineRun.Trigger.MANUAL,
    user=None,
    retry_of: PipelineRun | None = None,
) -> PipelineRun:
    """Queue a run and hand it to a worker; ``AlreadyRunning`` if one is active."""
    run = pipeline_run_create(full=full, trigger=trigger, user=user, retry_of=retry_of)
    transaction.on_commit(partial(_run_send, run))
    return run


def _run_send(run: PipelineRun) -> None:
    """Hand a committed run to the workers; a run that cannot be sent fails at
    once rather than stay queued and block every later run."""
    try:
        tasks.pipeline_run_task.delay(run.pk)
    except Exception as error:
        logger.exception("could not queue run %s", run.pk)
        message = f"Could not reach the task queue: {type(error).__name__}: {error}"
        PipelineRun.objects.filter(pk=run.pk, status=PipelineRun.Status.QUEUED).update(
            status=PipelineRun.Status.FAILED, finished_at=timezone.now(), error=message
        )
        run_event(run, PipelineRunEvent.Action.FAILED, message=message)


def pipeline_run_cancel(*, run: PipelineRun, user=None) -> PipelineRun:
    """Cancel a queued run at once, or ask a running one to stop at its next step."""
    with transaction.atomic():
        run = PipelineRun.objects.select_for_update().get(pk=run.pk)
        if not run.is_active:
            raise RunStateError(ERROR_NOT_ACTIVE.format(run_id=run.pk, status=run.status))
        if run.cancel_requested_at is None:
            run.cancel_requested_at, run.cancel_requested_by = timezone.now(), user
            run_event(run, PipelineRunEvent.Action.CANCEL_REQUESTED, user=user)
        if run.status == PipelineRun.Status.QUEUED:
            run.status, run.finished_at = PipelineRun.Status.CANCELLED, timezone.now()
            run.error = "Cancelled before it started."
            run_event(run, PipelineRunEvent.Action.CANCELLED, user=user, message=run.error)
        run.save()
    if run.status == PipelineRun.Status.RUNNING:
        get_engine(run.engine).cancel(run)
    return run


def pipeline_run_retry(*, run: PipelineRun, user=None, trigger: str = PipelineRun.Trigger.MANUAL):
    """Start a new run like a failed or cancelled one (the lake catches up from there)."""
    if run.status not in (PipelineRun.Status.FAILED, PipelineRun.Status.CANCELLED):
        raise RunStateError(ERROR_NOT_RETRYABLE.format(run_id=run.pk, status=run.status))
    with transaction.atomic():
        retry = pipeline_run_request(full=run.full, trigger=trigger, user=user, retry_of=run)
        run_event(
            run, PipelineRunEvent.Action.RETRIED, user=user, message=f"Retried as run {retry.pk}."
        )
    return retry


def lake_refresh_request() -> None:
    """Ask for an incremental run soon: the first request of a burst schedules
    one refresh ``LAKE_REFRESH_DEBOUNCE_SECONDS`` later, the rest only note
    the time, so a burst of rentals makes one run."""
    now = timezone.now()
    debounce = settings.LAKE_REFRESH_DEBOUNCE_SECONDS
    with transaction.atomic():
        lock = PipelineLock.acquire()
        lock.refresh_requested_at = now
        schedule = lock.refresh_due_at is None or lock.refresh_due_at < now - REFRESH_LOST_AFTER
        if schedule:
            lock.refresh_due_at = now + timedelta(seconds=debounce)
        lock.save()
    if schedule:
        tasks.lake_refresh_task.apply_async(countdown=debounce)


def lake_refresh_start() -> PipelineRun | None:
    """The debounced refresh: queue an event run, or wait for the active one."""
    debounce = settings.LAKE_REFRESH_DEBOUNCE_SECONDS
    with transaction.atomic():
        lock = PipelineLock.acquire()
        if lock.refresh_requested_at is None:
            lock.refresh_due_at = None
            lock.save()
            return None
        if selectors.active_run() is not None:
            # Changes made during that run are read by the next one: come back later.
            lock.refresh_due_at = timezone.now() + timedelta(seconds=debounce)
            lock.save()
            transaction.on_commit(partial(tasks.lake_refresh_task.apply_async, countdown=debounce))
            return None
        lock.refresh_requested_at = lock.refresh_due_at = None
        lock.save()
        return pipeline_run_create(trigger=PipelineRun.Trigger.EVENT)


def lake_refresh_on_commit() -> None:
    """Request a refresh once the current transaction commits (desk activity).

    Once per transaction, however many rentals and payments it saved.
    """
    if not settings.LAKE_REFRESH_ON_CHANGE:
        return
    connection = transaction.get_connection()
    if any(func is _refresh_request_safely for _, func, _ in connection.run_on_commit):
        return
    transaction.on_commit(_refresh_request_safely)


def _refresh_request_safely() -> None:
    # Freshness is best effort: a broker that is down must not fail the rental
    # that was just committed; the hourly schedule catches up.
    try:
        lake_refresh_request()
    except Exception:
        logger.exception("could not request a lake refresh")


def schedule_save(*, task: PeriodicTask, user) -> None:
    """Save a schedule turned on or off, noted in its admin history (who and when)."""
    with transaction.atomic():
        task.save()  # PeriodicTask.save tells beat that the schedules changed
        LogEntry.objects.log_actions(
            user_id=user.pk,
            queryset=[task],
            action_flag=CHANGE,
            change_message=json.dumps([{"changed": {"fields": ["Enabled"]}}]),
            single_object=True,
        )
