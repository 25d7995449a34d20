"""Run the pipeline: extract, stage, transform, crawl, then publish.

Every step is recorded as a PipelineStep as it runs. Nothing a run writes
is visible to readers until the last step: publishing records the lake
tables' snapshot ids on the run and advances the watermarks, in one
database transaction. A run that fails or is killed before that leaves
the published snapshots and the watermarks as they were; the next run
reads the same changes again and, merges being idempotent, catches up.
"""

import logging
import os
import signal
import socket
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from lake import selectors
from lake.catalog import current_snapshot_ids, protect_published
from lake.core.marts import SQL_MARTS
from lake.engines import get_engine
from lake.models import PipelineLock, PipelineRun, PipelineRunEvent, PipelineStep, Watermark
from lake.pipeline.audit import ChecksFailed, checks_conclude, tables_audit
from lake.pipeline.crawl import crawl_raw_zone
from lake.pipeline.extract import extract_tables
from lake.pipeline.schemas import STAGED_MODELS, table_name
from lake.pipeline.stage import stage_table
from lake.pipeline.transform import Transform, marts_reset_to_published

logger = logging.getLogger(__name__)

ERROR_ALREADY_RUNNING = "Run {run_id} is already running (started {started})."
ERROR_NEVER_STARTED = "No worker started it (is a Celery worker running?)."
ERROR_PROCESS_GONE = "The process running it stopped (killed or crashed) during {step}."
ERROR_NOT_POLLED = (
    "Its state could not be read from {engine} for {seconds} s (the worker polling it "
    "stopped, or {engine} could not be reached) during {step}."
)


class AlreadyRunning(Exception):
    def __init__(self, run: PipelineRun) -> None:
        self.run = run
        started = run.started_at or run.created_at
        super().__init__(
            ERROR_ALREADY_RUNNING.format(run_id=run.pk, started=f"{started:%Y-%m-%d %H:%M:%S}")
        )


class InjectedFault(Exception):
    """Raised by the fault-injection hook (tests of atomicity)."""


class RunCancelled(Exception):
    """Raised at a step boundary of a run whose cancellation was requested."""


def pipeline_run_create(
    *,
    full: bool = False,
    trigger: str = PipelineRun.Trigger.MANUAL,
    user=None,
    retry_of: PipelineRun | None = None,
    kind: str = PipelineRun.Kind.PIPELINE,
    os_user: str = "",
) -> PipelineRun:
    """Queue a run, unless one is active (a dead one is marked failed first).

    The lock row serialises starters on every database, so two triggers at
    the same moment make one run and one "already running".
    """
    with transaction.atomic():
        PipelineLock.acquire()
        pipeline_runs_reap()
        if (run := selectors.active_run()) is not None:
            raise AlreadyRunning(run)
        maintenance = kind == PipelineRun.Kind.MAINTENANCE
        run = PipelineRun.objects.create(
            kind=kind,
            # The first run builds everything.
            full=not maintenance and (full or not selectors.published_snapshots()),
            trigger=trigger,
            requested_by=user,
            engine=settings.LAKE_ENGINE,
            retry_of=retry_of,
            os_user=os_user,
        )
        run_event(run, PipelineRunEvent.Action.TRIGGERED, user=user, message=_trigger_text(run))
        return run


TRIGGER_TEXT = {
    PipelineRun.Trigger.MANUAL: "from the control panel",
    PipelineRun.Trigger.COMMAND: "from the command line",
    PipelineRun.Trigger.API: "through the API",
    PipelineRun.Trigger.SCHEDULE: "by a schedule",
    PipelineRun.Trigger.EVENT: "by desk activity",
    PipelineRun.Trigger.THRESHOLD: "after enough runs since the last",
}


def _trigger_text(run: PipelineRun) -> str:
    by = f" by OS user {run.os_user}" if run.os_user else ""
    if run.kind == PipelineRun.Kind.MAINTENANCE:
        return f"Maintenance triggered {TRIGGER_TEXT[run.trigger]}{by}."
    kind = "Full" if run.full else "Incremental"
    retry = f", retrying run {run.retry_of_id}" if run.retry_of_id else ""
    return f"{kind} run triggered {TRIGGER_TEXT[run.trigger]}{by}{retry}."


def run_event(run: PipelineRun, action: str, *, user=None, message: str = "") -> None:
    PipelineRunEvent.objects.create(run=run, action=action, user=user, message=message)


def pipeline_runs_reap() -> int:
    """Mark failed the running runs whose process is gone or silent too long,
    and the queued runs no worker picked up in that time."""
    reaped = 0
    stale_before = timezone.now() - timedelta(seconds=settings.LAKE_RUN_STALE_SECONDS)
    for run in PipelineRun.objects.filter(
        status=PipelineRun.Status.QUEUED, created_at__lt=stale_before
    ):
        run_finish(run, PipelineRun.Status.FAILED, ERROR_NEVER_STARTED)
        run_event(run, PipelineRunEvent.Action.FAILED, message=ERROR_NEVER_STARTED)
        reaped += 1
    for run in PipelineRun.objects.filter(status=PipelineRun.Status.RUNNING):
        dead = run.host == socket.gethostname() and run.pid and not _process_alive(run.pid)
        if dead or (run.heartbeat_at and run.heartbeat_at < stale_before):
            step = run.steps.filter(status=PipelineStep.Status.RUNNING).first()
            step_name = step.name if step else "a step"
            if run.pid is None:  # an engine that runs elsewhere: its poller beats
                error = ERROR_NOT_POLLED.format(
                    engine=get_engine(run.engine).title,
                    seconds=settings.LAKE_RUN_STALE_SECONDS,
                    step=step_name,
                )
            else:
                error = ERROR_PROCESS_GONE.format(step=step_name)
            run_finish(run, PipelineRun.Status.FAILED, error)
            run_event(run, PipelineRunEvent.Action.FAILED, message=error)
            run.steps.filter(status=PipelineStep.Status.RUNNING).update(
                status=PipelineStep.Status.FAILED, finished_at=timezone.now(), error="stopped"
            )
            if run.pid is None:
                # Nothing of it will be published: stop it there too, so it does not
                # hold the workflow (one run at a time) or bill for nothing.
                transaction.on_commit(lambda run=run: _stop_elsewhere(run))
            reaped += 1
    return reaped


def _stop_elsewhere(run: PipelineRun) -> None:
    try:
        get_engine(run.engine).cancel(run)
    except Exception:  # the run is already failed here; stopping it is a courtesy
        logger.warning("could not stop reaped run %s on %s", run.pk, run.engine, exc_info=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class RunInputs:
    """What a run reads from: the lake as last published, and from which watermarks."""

    published: dict[str, int]  # lake table -> snapshot id of the last successful run
    full: bool  # rebuild everything (asked for, or nothing was ever published)
    watermarks: dict[str, datetime]  # table -> extract from (empty on a full run)


def pipeline_run_claim(run: PipelineRun, *, host: str, pid: int | None) -> RunInputs | None:
    """Mark a queued run running (on ``host``, process ``pid``) and record what
    it reads from; None, and the run refreshed as it is, if it was not queued.

    Every engine starts here: a run started elsewhere (a task delivered twice)
    or cancelled while queued is left alone.
    """
    now = timezone.now()
    claimed = PipelineRun.objects.filter(
        pk=run.pk, status=PipelineRun.Status.QUEUED, cancel_requested_at__isnull=True
    ).update(
        status=PipelineRun.Status.RUNNING, started_at=now, heartbeat_at=now, host=host, pid=pid
    )
    run.refresh_from_db()
    if not claimed:
        return None
    published = selectors.published_snapshots()
    full = run.full or not published
    watermarks = {} if full else {w.table: w.value for w in Watermark.objects.all()}
    run.watermarks_from = {table: value.isoformat(" ") for table, value in watermarks.items()}
    run.save(update_fields=["watermarks_from"])
    return RunInputs(published, full, watermarks)


def pipeline_run_publish(
    run: PipelineRun,
    watermarks: dict[str, datetime],
    staged_rows: dict[str, int | None] | None = None,
) -> None:
    """Make what a run wrote the lake readers see, in one database transaction:
    the tables' current snapshot ids recorded on the run, the watermarks
    advanced to what it extracted (with the rows staging holds, when known),
    the run succeeded."""
    staged_rows = staged_rows or {}
    with transaction.atomic():
        for name, value in watermarks.items():
            Watermark.objects.update_or_create(
                table=name, defaults={"value": value, "run": run, "rows": staged_rows.get(name)}
            )
        run.watermarks_to = {
            **run.watermarks_from,
            **{name: value.isoformat(" ") for name, value in watermarks.items()},
        }
        run.snapshots = current_snapshot_ids()
        published_protect_on_commit(run.snapshots)
        run_finish(run, PipelineRun.Status.SUCCEEDED)
        total = f"{run.seconds:.1f}" if run.seconds is not None else "?"
        run_event(run, PipelineRunEvent.Action.SUCCEEDED, message=f"Published in {total} s.")


def published_protect_on_commit(snapshots: dict[str, int], *, every_table: bool = False) -> None:
    """Once the publishing transaction commits, tag the published snapshots so
    no expiry takes them (``lake.catalog.protect_published``); call it before
    the publishing run is marked succeeded. ``every_table``: check each table's
    tag, not only the changed ones (maintenance repairs what a failed tagging left)."""
    previous = selectors.published_run()
    transaction.on_commit(
        partial(
            protect_published,
            snapshots,
            previous={} if every_table or previous is None else dict(previous.snapshots),
            previous_run=previous.pk if previous else None,
            window=timedelta(days=settings.LAKE_RETENTION_DAYS),
        )
    )


def pipeline_run_execute(run: PipelineRun, *, as_of: datetime | None = None) -> PipelineRun:
    """Run the whole pipeline for a queued run, in this process; return it finished.

    Late fees of rentals still out accrue to ``as_of``: by default the moment
    the extract read the rental database (the data's own "now"); tests and
    replays give a time.
    """

    def body(run: PipelineRun, inputs: RunInputs) -> None:
        _execute(run, inputs.published, inputs.full, inputs.watermarks, as_of)

    return run_claimed_execute(run, body)


def run_claimed_execute(
    run: PipelineRun, body: Callable[[PipelineRun, RunInputs], None]
) -> PipelineRun:
    """Claim a queued run and carry out ``body``, which publishes at its end;
    a cancel or an error ends the run with nothing published.

    A run already started elsewhere (a task delivered twice) or cancelled
    while queued is returned as it is.
    """
    inputs = pipeline_run_claim(run, host=socket.gethostname(), pid=os.getpid())
    if inputs is None:
        return run
    run_event(run, PipelineRunEvent.Action.STARTED, message=f"On {run.host}, process {run.pid}.")
    try:
        body(run, inputs)
    except RunCancelled:
        run_finish(run, PipelineRun.Status.CANCELLED, "Cancelled before it published anything.")
        run_event(run, PipelineRunEvent.Action.CANCELLED, message=run.error)
    except ChecksFailed as failed:
        run_finish(run, PipelineRun.Status.CHECKS_FAILED, str(failed))
        run_event(run, PipelineRunEvent.Action.CHECKS_FAILED, message=run.error)
    except Exception as error:
        logger.exception("pipeline run %s failed", run.pk)
        run_finish(run, PipelineRun.Status.FAILED, f"{type(error).__name__}: {error}")
        run_event(run, PipelineRunEvent.Action.FAILED, message=run.error)
    return run


def _execute(
    run: PipelineRun,
    published: dict[str, int],
    full: bool,
    watermarks: dict,
    as_of: datetime | None = None,
) -> None:
    with run_step(run, "extract") as step:  # one consistent read of every table
        extracts = extract_tables(list(STAGED_MODELS), since=watermarks, run_id=run.pk)
        step.rows = sum(extract.rows.num_rows for extract in extracts.values())
        step.files_written = sum(extract.files for extract in extracts.values())
        step.log = f"{len(extracts)} tables read in one snapshot"
    for extract in extracts.values():
        PipelineStep.objects.create(
            run=run, name=f"extract {extract.table}", position=run.steps.count(),
            status=PipelineStep.Status.SUCCEEDED, started_at=extract.started,
            finished_at=extract.finished, rows=extract.rows.num_rows,
            files_written=extract.files,
        )  # fmt: skip

    changed, deleted = {}, {}
    staged_rows = dict(Watermark.objects.values_list("table", "rows"))
    for model in STAGED_MODELS:
        name = table_name(model)
        extract = extracts[name]
        with run_step(run, f"stage {name}") as step:
            staged = stage_table(
                model, extract, published_snapshot=published.get(f"staging.{name}"), full=full,
                staged_rows=staged_rows.get(name),
            )  # fmt: skip
            step.rows = staged.changed.num_rows
            step.log = f"{extract.rows.num_rows} rows read, {step.rows} new, changed or deleted"
        staged_rows[name] = staged.rows
        if staged.deleted:
            deleted[name] = staged.deleted
        # A full run's marts read staging itself: let go of the rows read.
        extract.rows = extract.rows.schema.empty_table()
        if not full:
            changed[name] = staged.changed

    # The read's start (a naive local time, as the rental dates) is the data's "now".
    as_of = as_of or extracts["rental"].watermark
    marts_reset_to_published(published)
    with Transform(changed, full=full, as_of=as_of, deleted=set(deleted)) as transform:
        with run_step(run, "dim_date") as step:
            result = transform.build_dim_date()
            step.rows, step.files_written = result.rows, result.files
        for mart in SQL_MARTS:
            with run_step(run, mart.name) as step:
                result = transform.build_mart(mart)
                step.rows, step.files_written = result.rows, result.files
                if "run_clock" in mart.keys_sql:
                    step.log = (
                        f"late fees of rentals still out accrued to {as_of:%Y-%m-%d %H:%M:%S}"
                    )
        with run_step(run, "checks") as step:
            results = tables_audit(transform, published=published, deleted=deleted)
            step.rows = sum(result.failing for result in results)
            watermarks = {name: extract.watermark for name, extract in extracts.items()}
            step.log = checks_conclude(run, results, watermarks)

    run_crawl(run)
    run_inject_fault("publish")
    run_raise_if_cancelled(run)
    pipeline_run_publish(
        run, {name: extract.watermark for name, extract in extracts.items()}, staged_rows
    )


def pipeline_run_finish(run: PipelineRun, status: str, error: str) -> None:
    """End a run that failed or was cancelled, with its error and the event."""
    action = {
        PipelineRun.Status.FAILED: PipelineRunEvent.Action.FAILED,
        PipelineRun.Status.CANCELLED: PipelineRunEvent.Action.CANCELLED,
    }[status]
    run_finish(run, status, error)
    run_event(run, action, message=error)


def run_finish(run: PipelineRun, status: str, error: str = "") -> None:
    run.status, run.error = status, error
    run.finished_at = timezone.now()
    # Only what the run itself owns: a cancel request may have been saved meanwhile.
    run.save(update_fields=["status", "error", "finished_at", "watermarks_to", "snapshots"])


def run_crawl(run: PipelineRun) -> None:
    """The run's "crawl" step: the raw zone's new partitions and columns catalogued."""
    with run_step(run, "crawl") as step:
        crawled = crawl_raw_zone()
        step.rows = crawled.new_partitions
        step.log = (
            f"{crawled.tables} raw tables, {crawled.new_partitions} new partitions, "
            f"{crawled.new_columns} new columns"
        )


@contextmanager
def run_step(run: PipelineRun, name: str) -> Iterator[PipelineStep]:
    """Record one step: running, then succeeded with its counts, or failed with the error."""
    now = timezone.now()
    step = PipelineStep.objects.create(
        run=run, name=name, position=run.steps.count(), status=PipelineStep.Status.RUNNING,
        started_at=now,
    )  # fmt: skip
    PipelineRun.objects.filter(pk=run.pk).update(heartbeat_at=now)
    try:
        run_raise_if_cancelled(run)
        run_inject_fault(name)
        yield step
    except RunCancelled:
        step.status = PipelineStep.Status.SKIPPED
        step.log = "Not run: the run was cancelled."
        raise
    except ChecksFailed as failed:  # the data's fault, not the code's: no traceback
        step.status = PipelineStep.Status.FAILED
        step.error = str(failed)
        raise
    except Exception as error:
        step.status = PipelineStep.Status.FAILED
        step.error = "".join(traceback.format_exception_only(error)).strip()
        step.log = (step.log + "\n" + traceback.format_exc()).strip()
        raise
    else:
        step.status = PipelineStep.Status.SUCCEEDED
    finally:
        step.finished_at = timezone.now()
        step.save()


def run_raise_if_cancelled(run: PipelineRun) -> None:
    if PipelineRun.objects.filter(pk=run.pk, cancel_requested_at__isnull=False).exists():
        raise RunCancelled


def run_inject_fault(step_name: str) -> None:
    """Fail on purpose at a step, for the atomicity and orchestration tests:
    LAKE_FAULT_INJECTION is "<step name>:raise", "<step name>:kill" (the
    process kills itself) or "<step name>:sleep=<seconds>" (a slow step). Other
    actions are not this function's ("marts:duplicate": see lake.core.checks.DUPLICATE_FAULT)."""
    target, _, action = settings.LAKE_FAULT_INJECTION.rpartition(":")
    if not target or target != step_name:
        return
    if action.startswith("sleep="):
        time.sleep(float(action.removeprefix("sleep=")))
    elif action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "raise":
        raise InjectedFault(f"fault injected at {step_name}")
