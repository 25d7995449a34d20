"""Celery tasks of the lake. Each passes ids to a service or an engine; no rules here."""

import logging
import time

from celery import shared_task
from django.db import InterfaceError, OperationalError

from lake import services
from lake.alerts import alerts_evaluate
from lake.engines import get_engine
from lake.models import PipelineRun
from lake.pipeline.runner import pipeline_runs_reap
from lake.services import POLL_FIRST_SECONDS

logger = logging.getLogger(__name__)

# Database hiccups (a lock timeout, a dropped connection) are worth a retry.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
RETRY = {
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 5,
}
POLL_MAX_SECONDS = 60


@shared_task(**RETRY)
def pipeline_run_task(run_id: int) -> None:
    """Start a queued run on its engine; poll it if it runs elsewhere."""
    run = PipelineRun.objects.get(pk=run_id)
    engine = get_engine(run.engine)
    engine.start(run)
    if engine.runs_elsewhere and run.is_active:  # not a maintenance run: it has ended here
        pipeline_run_poll_later(run_id, 0, POLL_FIRST_SECONDS)
        return
    alerts_after_run()
    if run.kind == PipelineRun.Kind.PIPELINE:
        services.lake_maintain_if_due()


def alerts_after_run() -> None:
    """Tell people of a run that just ended badly (or of a recovery) at once,
    rather than at beat's next look; a failure here never fails the task."""
    try:
        alerts_evaluate()
    except Exception:
        logger.exception("could not evaluate the lake's alerts after a run")


def poll_delay(attempt: int) -> int:
    """Seconds before the poll after ``attempt``: doubling, at most POLL_MAX_SECONDS."""
    return min(POLL_FIRST_SECONDS * 2**attempt, POLL_MAX_SECONDS)


def pipeline_run_poll_later(run_id: int, attempt: int, delay: float) -> None:
    """Poll the run in ``delay`` seconds.

    Eager tasks (CELERY_TASK_ALWAYS_EAGER) run at once whatever their
    countdown: a poll that queued the next one would call itself without
    waiting until Python's recursion limit. Eagerly, the polls run here, in
    a loop that waits between them, until the run ends.
    """
    if not pipeline_run_poll_task.app.conf.task_always_eager:
        pipeline_run_poll_task.apply_async((run_id, attempt), countdown=delay)
        return
    while True:
        time.sleep(delay)
        if not pipeline_run_poll(run_id):
            return
        delay = poll_delay(attempt)
        attempt += 1


def pipeline_run_poll(run_id: int) -> bool:
    """Copy a remote run's state into the run; whether it is still active."""
    run = PipelineRun.objects.get(pk=run_id)
    return get_engine(run.engine).refresh(run).is_active


@shared_task(**RETRY)
def pipeline_run_poll_task(run_id: int, attempt: int = 0) -> None:
    """Copy a remote run's state into the run, again later (with backoff) while it is active."""
    if pipeline_run_poll(run_id):
        pipeline_run_poll_later(run_id, attempt + 1, poll_delay(attempt))
    else:
        alerts_after_run()


@shared_task(**RETRY)
def pipeline_runs_reap_task() -> int:
    """Mark failed the runs whose worker died, so a new run can start."""
    return pipeline_runs_reap()


@shared_task(**RETRY)
def lake_refresh_task() -> None:
    """The debounced refresh after desk activity: one incremental run."""
    run = services.lake_refresh_start()
    if run is not None:
        pipeline_run_task(run.pk)


@shared_task(**RETRY)
def lake_maintain_scheduled_task() -> None:
    """Maintenance started by its schedule (on every engine); skipped while a run is active."""
    try:
        services.lake_maintain_request(trigger=PipelineRun.Trigger.SCHEDULE)
    except (services.AlreadyRunning, services.RunStateError) as error:
        logger.info("scheduled maintenance skipped: %s", error)


@shared_task(**RETRY)
def pipeline_run_scheduled_task(full: bool = False) -> None:
    """A run started by a schedule (django-celery-beat); skipped while one is active."""
    try:
        services.pipeline_run_request(full=full, trigger=PipelineRun.Trigger.SCHEDULE)
    except services.AlreadyRunning as error:
        logger.info("scheduled run skipped: %s", error)
