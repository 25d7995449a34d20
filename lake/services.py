"""Orchestration of pipeline runs: request, cancel, retry, resume, event-driven refresh.

The control panel, the API, schedules and desk activity all come through
here; the Celery tasks of ``lake.tasks`` do the work, queued only once the
transaction that asked for it has committed.
"""

import logging
from datetime import datetime, timedelta
from functools import partial
from math import ceil

from celery import Task, current_app
from django.conf import settings
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from lake import selectors
from lake.catalog import current_snapshot_ids
from lake.engines import current_engine, get_engine
from lake.engines.base import CannotResume, Engine
from lake.models import PipelineLock, PipelineRun, PipelineRunEvent, WorkerHeartbeat
from lake.panel.schedules import TURNED
from lake.pipeline.maintain import maintenance_due
from lake.pipeline.runner import (
    TRIGGER_TEXT,
    AlreadyRunning,
    pipeline_run_create,
    pipeline_run_publish,
    pipeline_runs_reap,
    run_event,
)

logger = logging.getLogger(__name__)

ERROR_NOT_ACTIVE = "Run {run_id} is {status}: only a queued or running run can be cancelled."
ERROR_NOT_RETRYABLE = "Run {run_id} is {status}: only a failed or cancelled run can be retried."
ERROR_NOT_RESUMABLE = (
    "Run {run_id} is {status}: only a failed run can be resumed (a cancelled one is stopped "
    "for good): retry it instead."
)
ERROR_RESUME_ENGINE = (
    "Run {run_id} ran on the {engine} engine, which cannot resume a run: retry it instead."
)
ERROR_PUBLISHED_SINCE = (
    "Run {later_id} has published since run {run_id} was created: resuming run {run_id} "
    "would publish its older watermarks over newer ones. Re-run it instead (Retry)."
)
ERROR_NOT_CHECKS_FAILED = (
    "Run {run_id} is {status}: only a run whose checks failed can be published anyway."
)
ERROR_NO_REASON = "Say why run {run_id} should be published although its checks failed."
ERROR_WRITTEN_SINCE = (
    "Run {later_id} has run since run {run_id}: the lake is no longer what run {run_id} "
    "wrote, so it cannot be published. Retry it instead."
)
ERROR_TABLES_MOVED = (
    "The lake's tables are no longer what run {run_id} wrote ({tables}): it cannot be "
    "published. Retry it instead."
)
ENDED = (PipelineRun.Status.FAILED, PipelineRun.Status.CANCELLED, PipelineRun.Status.CHECKS_FAILED)
# A pending refresh older than this is taken for lost (its task never ran).
REFRESH_LOST_AFTER = timedelta(minutes=2)
# A run that runs elsewhere is polled after this many seconds, then with backoff.
POLL_FIRST_SECONDS = 5

__all__ = [
    "AlreadyRunning",
    "RunStateError",
    "lake_maintain_if_due",
    "lake_maintain_request",
    "lake_refresh_request",
    "lake_refresh_start",
    "pipeline_run_cancel",
    "pipeline_run_publish_anyway",
    "pipeline_run_request",
    "pipeline_run_resume",
    "pipeline_run_resume_step",
    "pipeline_run_retry",
    "schedule_save",
    "worker_heartbeat_end",
    "worker_heartbeat_record",
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


def _task(name: str) -> Task:
    """The Celery task ``lake.tasks.<name>``, found by name: the tasks call
    these services, so this module does not import them."""
    return current_app.tasks[f"lake.tasks.{name}"]


def _run_send(run: PipelineRun) -> None:
    """Hand a committed run to the workers; a run that cannot be sent fails at
    once rather than stay queued and block every later run."""
    try:
        _task("pipeline_run_task").delay(run.pk)
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
    if run.status not in ENDED:
        raise RunStateError(ERROR_NOT_RETRYABLE.format(run_id=run.pk, status=run.status))
    with transaction.atomic():
        retry = pipeline_run_request(full=run.full, trigger=trigger, user=user, retry_of=run)
        run_event(
            run, PipelineRunEvent.Action.RETRIED, user=user, message=f"Retried as run {retry.pk}."
        )
    return retry


def pipeline_run_publish_anyway(*, run: PipelineRun, user, reason: str) -> PipelineRun:
    """Publish a run whose checks failed, as it was written, for ``reason``
    (audited): the checks stay recorded, failed, with the run.

    Only the last run can be published so: once another run has started, or
    the tables' current snapshots moved, what it wrote is gone.
    """
    reason = " ".join(reason.split())
    if not reason:
        raise RunStateError(ERROR_NO_REASON.format(run_id=run.pk))
    with transaction.atomic():
        PipelineLock.acquire()
        _raise_if_active()
        run = PipelineRun.objects.select_for_update().get(pk=run.pk)
        if run.status != PipelineRun.Status.CHECKS_FAILED:
            raise RunStateError(
                ERROR_NOT_CHECKS_FAILED.format(
                    run_id=run.pk, status=run.get_status_display().lower()
                )
            )
        if (later := PipelineRun.objects.filter(pk__gt=run.pk).order_by("pk").first()) is not None:
            raise RunStateError(ERROR_WRITTEN_SINCE.format(run_id=run.pk, later_id=later.pk))
        current = current_snapshot_ids()
        if moved := sorted(
            t for t in {*current, *run.snapshots} if current.get(t) != run.snapshots.get(t)
        ):
            raise RunStateError(ERROR_TABLES_MOVED.format(run_id=run.pk, tables=", ".join(moved)))
        watermarks = {t: datetime.fromisoformat(v) for t, v in run.watermarks_to.items()}
        run_event(run, PipelineRunEvent.Action.PUBLISHED_ANYWAY, user=user, message=reason)
        pipeline_run_publish(run, watermarks)
    return run


def pipeline_run_resume(
    *, run: PipelineRun, user=None, trigger: str = PipelineRun.Trigger.MANUAL
) -> PipelineRun:
    """Go on with a failed run from the steps that did not succeed
    (Glue: its workflow run resumed from the failed nodes), as a new run.

    The new run reads from the same watermarks and publishes like any other
    run, so it is refused once another run has published since, and while a
    run is active (``AlreadyRunning``). The engine is read first (has the run
    ended there, what failed), then the new run is made under the lock and
    handed to the engine; an error the engine answers fails the new run with it.
    """
    engine = get_engine(run.engine)
    _resume_check(run, engine)
    with transaction.atomic():  # before asking the engine anything
        PipelineLock.acquire()
        _raise_if_active()
    try:
        point = engine.resume_point(run)
    except CannotResume as error:
        raise RunStateError(str(error)) from error
    steps = ", ".join(point.steps)
    with transaction.atomic():
        PipelineLock.acquire()
        _raise_if_active()  # again under the lock, as for any new run
        _resume_check(run, engine)  # and a run may have published meanwhile
        resumed = PipelineRun.objects.create(
            engine=run.engine,
            full=run.full,
            watermarks_from=run.watermarks_from,
            trigger=trigger,
            requested_by=user,
            retry_of=run,
            resumed=True,
        )
        kind = "Full" if run.full else "Incremental"
        run_event(
            resumed,
            PipelineRunEvent.Action.TRIGGERED,
            user=user,
            message=(
                f"{kind} run triggered {TRIGGER_TEXT[trigger]}, resuming run {run.pk} from {steps}."
            ),
        )
        run_event(
            run,
            PipelineRunEvent.Action.RESUMED,
            user=user,
            message=f"Resumed as run {resumed.pk} from {steps}.",
        )
    # Outside the lock, as the engine is called: the new run, queued, already keeps
    # any other run from starting.
    engine.resume(run, resumed, point)
    resumed.refresh_from_db()
    if resumed.is_active:
        transaction.on_commit(partial(_poll_send, resumed))
    return resumed


def pipeline_run_resume_step(run: PipelineRun) -> str | None:
    """The step a resume of the run would start from, or None if it cannot be
    resumed, as far as the database tells (the engine is asked on resume)."""
    engine = get_engine(run.engine)
    try:
        _resume_check(run, engine)
    except RunStateError:
        return None
    return engine.resume_step(run)


def _raise_if_active() -> None:
    """``AlreadyRunning`` if a run is active, a dead one marked failed first (under the lock)."""
    pipeline_runs_reap()
    if (active := selectors.active_run()) is not None:
        raise AlreadyRunning(active)


def _resume_check(run: PipelineRun, engine: Engine) -> None:
    # A cancel stops the Glue workflow run, and Glue resumes only completed ones.
    if run.status != PipelineRun.Status.FAILED:
        raise RunStateError(ERROR_NOT_RESUMABLE.format(run_id=run.pk, status=run.status))
    if not engine.can_resume:
        title = get_engine(run.engine).title
        raise RunStateError(ERROR_RESUME_ENGINE.format(run_id=run.pk, engine=title))
    # Runs are created one at a time, in id order: a later run that succeeded
    # advanced the watermarks past those this run read from.
    later = PipelineRun.objects.filter(pk__gt=run.pk, status=PipelineRun.Status.SUCCEEDED)
    if (published := later.order_by("pk").first()) is not None:
        raise RunStateError(ERROR_PUBLISHED_SINCE.format(run_id=run.pk, later_id=published.pk))


def _poll_send(run: PipelineRun) -> None:
    """Have the workers poll a run that runs elsewhere; if the queue cannot take
    it, the reaper fails the run (and stops it there) once its heartbeat is stale."""
    try:
        _task("pipeline_run_poll_task").apply_async((run.pk, 0), countdown=POLL_FIRST_SECONDS)
    except Exception:
        logger.exception("could not queue the polls of run %s", run.pk)


def lake_maintain_request(
    *, trigger: str = PipelineRun.Trigger.MANUAL, user=None, os_user: str = "", send: bool = True
) -> PipelineRun:
    """Queue a maintenance run and hand it to a worker (``send``; the command
    line runs it itself); ``AlreadyRunning`` if a run is active. On the Glue
    engine too: it retires runs and keeps the raw zone (``lake.pipeline.maintain``)."""
    run = pipeline_run_create(
        trigger=trigger, user=user, os_user=os_user, kind=PipelineRun.Kind.MAINTENANCE
    )
    if send:
        transaction.on_commit(partial(_run_send, run))
    return run


def lake_maintain_if_due() -> PipelineRun | None:
    """After a pipeline run: queue maintenance when enough runs happened since the last."""
    if not maintenance_due(current_engine()):
        return None
    try:
        return lake_maintain_request(trigger=PipelineRun.Trigger.THRESHOLD)
    except AlreadyRunning:  # a run started meanwhile: the next run's check comes back to it
        return None


def lake_refresh_request() -> None:
    """Ask for an incremental run soon: the first request of a burst schedules
    one refresh ``LAKE_REFRESH_DEBOUNCE_SECONDS`` later, the rest only note
    the time, so a burst of rentals makes one run."""
    now = timezone.now()
    with transaction.atomic():
        lock = PipelineLock.acquire()
        lock.refresh_requested_at = now
        schedule = lock.refresh_due_at is None or lock.refresh_due_at < now - REFRESH_LOST_AFTER
        if schedule:
            countdown = settings.LAKE_REFRESH_DEBOUNCE_SECONDS
            if (not_before := _refresh_not_before()) is not None:
                countdown = max(countdown, ceil((not_before - now).total_seconds()))
            lock.refresh_due_at = now + timedelta(seconds=countdown)
        lock.save()
    if schedule:
        _task("lake_refresh_task").apply_async(countdown=countdown)


def _refresh_not_before():
    """When the next refresh run may start, as the engine has it (Glue: some
    minutes after the last run of any kind); None: at once."""
    last = PipelineRun.objects.order_by("-created_at").values_list("created_at", flat=True)
    if (created_at := last.first()) is None:
        return None
    return current_engine().refresh_not_before(created_at)


def _refresh_later(countdown: int) -> None:
    """Start the debounced refresh again in ``countdown`` seconds, once this
    transaction has committed."""
    transaction.on_commit(partial(_task("lake_refresh_task").apply_async, countdown=countdown))


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
            transaction.on_commit(
                partial(_task("lake_refresh_task").apply_async, countdown=debounce)
            )
            return None
        # A run queued after the request (say "Run now") and published has read those changes.
        published = selectors.published_run(kind=PipelineRun.Kind.PIPELINE)
        covered = published is not None and published.created_at > lock.refresh_requested_at
        if covered:
            lock.refresh_requested_at = lock.refresh_due_at = None
            lock.save()
            return None
        not_before = _refresh_not_before()
        if not_before is not None and not_before > timezone.now():
            # Too soon after the last run (Glue): the changes wait for the next one.
            countdown = ceil((not_before - timezone.now()).total_seconds())
            lock.refresh_due_at = not_before
            lock.save()
            transaction.on_commit(
                partial(_task("lake_refresh_task").apply_async, countdown=countdown)
            )
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
    """Save a schedule turned on or off, noted in its admin history (who and when),
    which the control panel's audit shows too."""
    with transaction.atomic():
        task.save()  # PeriodicTask.save tells beat that the schedules changed
        LogEntry.objects.log_actions(
            user_id=user.pk,
            queryset=[task],
            action_flag=CHANGE,
            change_message=TURNED.format(state="on" if task.enabled else "off"),
            single_object=True,
        )


def worker_heartbeat_record(*, hostname: str, pid: int) -> None:
    """Note that the worker ``hostname`` (process ``pid``) is alive now.

    A new process under the same name (a restarted worker) starts its row afresh.
    """
    now = timezone.now()
    if not WorkerHeartbeat.objects.filter(hostname=hostname, pid=pid).update(last_seen=now):
        WorkerHeartbeat.objects.update_or_create(
            hostname=hostname, defaults={"pid": pid, "started_at": now, "last_seen": now}
        )


def worker_heartbeat_end(*, hostname: str, pid: int) -> None:
    """A worker stopping cleanly says so, so the panel need not wait for its heartbeat to age."""
    WorkerHeartbeat.objects.filter(hostname=hostname, pid=pid).delete()
