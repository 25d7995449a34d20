"""The Glue engine: a pipeline run is a run of the Glue workflow ``lake deploy`` made.

``start`` claims the run as the local runner does and starts the workflow
with the run properties of the contract in ``lake.glue_jobs``; the worker
then calls ``refresh`` with backoff, which reads the workflow run with its
graph, copies every job and crawler node into a step, and, once the
workflow has completed cleanly and the marts job's data checks passed,
publishes the run as the local runner does
(the snapshots now in the Glue catalog and the extract job's watermarks, in
one database transaction). Until then readers see the previous run.

AWS errors: botocore already retries throttling and transient errors with
backoff (``lake.aws.clients``). What is still transient after that leaves
the run as it is, for the next poll to try again (and, should that last,
the reaper to fail it); any other error fails the run with AWS's message.

Resume: a failed run's workflow run can go on from the jobs or crawler that
failed (``resume_workflow_run``): Glue runs them, and what follows them, as
a new workflow run with the same run properties. The new pipeline run gets
that workflow run, the steps that had succeeded (copied, so its timeline
reads right), and is then polled and published like any other.

A maintenance run is no workflow run: it runs in the worker as on the local
engine (``lake.pipeline.maintain``: retire runs, raw retention on S3 and in
the Glue Data Catalog), and Glue's table optimizers maintain the tables.
"""

import logging
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as AwsConnectionError
from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from lake.aws.clients import aws_client
from lake.aws.names import workflow_name
from lake.aws.raw_retention import glue_raw_retention
from lake.aws.raw_tables import glue_raw_tables
from lake.engines.base import CannotResume, Engine, ResumePoint
from lake.engines.glue_graph import (
    STEP_ORDER,
    Status,
    copy_succeeded_steps,
    needs_resume,
    node_step,
    not_succeeded,
    record_steps,
    step_order,
)
from lake.engines.job_runs import (
    JobContractError,
    check_results,
    run_properties,
    watermarks_to,
)
from lake.models import CrawledTable, PipelineRun, PipelineRunEvent, PipelineStep
from lake.pipeline.audit import ChecksFailed, checks_conclude
from lake.pipeline.maintain import maintenance_run_execute
from lake.pipeline.raw_retention import RawRetention
from lake.pipeline.runner import (
    pipeline_run_claim,
    pipeline_run_finish,
    pipeline_run_publish,
    run_event,
    run_finish,
)

logger = logging.getLogger(__name__)

# Error codes worth another try at the next poll (botocore retried them already).
TRANSIENT_ERROR_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "InternalServiceException",
        "InternalFailure",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "OperationTimeoutException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
# Workflow statistics that count actions which did not succeed.
UNSUCCESSFUL_ACTIONS = ("FailedActions", "TimeoutActions", "StoppedActions", "ErroredActions")
ERROR_AWS = "Glue: {code}: {message} ({doing})"
ERROR_UNSUCCESSFUL = (
    "The Glue workflow run completed, but {count} of its actions did not succeed "
    "(failed, timed out or stopped): see the run in the Glue console."
)
ERROR_NOT_RUN = "The Glue workflow run completed, but {steps} did not run."
ERROR_STOPPED = "The Glue workflow run was stopped outside this app (console or API)."
ERROR_WORKFLOW = "The Glue workflow run ended {status}: {message}"
ERROR_PUBLISH = "Publishing failed: {error}"
CANCELLED = "Cancelled before it published anything."

ERROR_RESUME_NOT_STARTED = (
    "Run {run_id} never started a Glue workflow run: there is nothing to resume. Retry it instead."
)
ERROR_RESUME_ACTIVE = (
    "The Glue workflow run {glue_run_id} of run {run_id} is still {status}: "
    "resume it once it has ended."
)
ERROR_RESUME_NOT_COMPLETED = (
    "The Glue workflow run {glue_run_id} of run {run_id} ended {status}: Glue resumes only "
    "a completed workflow run (a stopped one cannot go on). Retry it instead."
)
ERROR_RESUME_NOTHING_FAILED = (
    "No job or crawler failed in the Glue workflow run {glue_run_id} of run {run_id}: "
    "there is nothing to resume from. Retry it instead."
)


class GlueEngine(Engine):
    name = "glue"
    title = "AWS Glue"
    runs_elsewhere = True
    can_resume = True
    takes_as_of = False
    tables_maintained_by = (
        "Glue's table optimizers compact the tables, expire their snapshots and delete "
        "orphan files (lake deploy turns them on): nothing to do here"
    )

    def __init__(self, client: Any = None) -> None:
        self._client = client

    @property
    def glue(self):
        """The Glue client (``aws_client("glue")`` unless one was given)."""
        return self._client or aws_client("glue")

    # --- Engine ---------------------------------------------------------------------------

    def start(self, run: PipelineRun, *, as_of: datetime | None = None) -> None:
        """Claim the queued run and start a workflow run for it (late fees
        accrue to when it starts: ``takes_as_of`` is off).

        A permanent AWS error fails the run at once; a transient one leaves
        it running without a Glue run id, and the next poll starts it.
        """
        if run.kind == PipelineRun.Kind.MAINTENANCE:
            maintenance_run_execute(run, self)  # to its end, in this worker
            return
        if pipeline_run_claim(run, host="", pid=None) is None:
            return  # delivered twice, or cancelled while queued
        self._call(
            run, f"starting workflow {workflow_name()}", self._start_workflow, run, adopt=False
        )

    def raw_retention(self, before_run: int, *, dry_run: bool) -> RawRetention:
        """On S3 and in the Glue Data Catalog (``lake.aws.raw_retention``)."""
        return glue_raw_retention(before_run, dry_run=dry_run)

    def crawled_tables(self, *, name: str | None = None) -> list[CrawledTable]:
        """The Glue crawler's tables (``lake.aws.raw_tables``), unsaved rows."""
        return glue_raw_tables(name=name)

    def refresh_not_before(self, last_run_created: datetime) -> datetime | None:
        """Each Glue run is a whole workflow: GLUE_REFRESH_MIN_INTERVAL_MINUTES
        apart, whatever the desk does."""
        if settings.GLUE_REFRESH_MIN_INTERVAL_MINUTES <= 0:
            return None
        return last_run_created + timedelta(minutes=settings.GLUE_REFRESH_MIN_INTERVAL_MINUTES)

    def refresh(self, run: PipelineRun) -> PipelineRun:
        """Copy the workflow run's state into the run and its steps; end the
        run (published, failed or cancelled) once the workflow run ended."""
        run.refresh_from_db()
        if run.status != PipelineRun.Status.RUNNING or run.kind == PipelineRun.Kind.MAINTENANCE:
            return run  # a maintenance run records its own state as it goes
        if not run.glue_run_id:  # the start did not get through: try again
            if run.cancel_requested_at is not None:
                self._end(run, PipelineRun.Status.CANCELLED, CANCELLED)
            else:
                doing = f"starting workflow {workflow_name()}"
                self._call(run, doing, self._start_workflow, run, adopt=True)
            return run
        doing = f"reading run {run.glue_run_id} of workflow {workflow_name()}"
        self._call(run, doing, self._refresh, run)
        return run

    def cancel(self, run: PipelineRun) -> None:
        """Ask Glue to stop the workflow run; the next refresh sees it stopping.

        Errors are only logged: the cancel request is recorded, and every
        refresh asks again while the workflow run is still running.
        """
        if run.glue_run_id:
            self._stop(run)

    # --- Resume ---------------------------------------------------------------------------

    def resume_step(self, run: PipelineRun) -> str | None:
        """The first job or crawler step the run recorded as failed, else as
        skipped (stopped, or never run), in workflow order.

        None for a run cancelled or stopped outside the app: its workflow run
        is STOPPED, and Glue resumes only COMPLETED ones (Glue developer
        guide, "Resuming a workflow run").
        """
        if not run.glue_run_id or run.status == PipelineRun.Status.CANCELLED:
            return None
        if run.error == ERROR_STOPPED:
            return None
        statuses = dict(run.steps.filter(name__in=STEP_ORDER).values_list("name", "status"))
        for wanted in (Status.FAILED, Status.SKIPPED):
            for name in STEP_ORDER:
                if statuses.get(name) == wanted:
                    return name
        return None

    def resume_point(self, run: PipelineRun) -> ResumePoint:
        """Read the run's ended workflow run with its graph: the failed, timed-out
        or stopped job and crawler nodes are where a resume starts."""
        if not run.glue_run_id:
            raise CannotResume(ERROR_RESUME_NOT_STARTED.format(run_id=run.pk))
        name = workflow_name()
        try:
            workflow_run = self.glue.get_workflow_run(
                Name=name, RunId=run.glue_run_id, IncludeGraph=True
            )["Run"]
        except (ClientError, BotoCoreError) as error:
            doing = f"reading run {run.glue_run_id} of workflow {name}"
            raise CannotResume(aws_error_message(error, doing)) from error
        ids = {"glue_run_id": run.glue_run_id, "run_id": run.pk}
        status = workflow_run.get("Status", "")
        if status in ("RUNNING", "STOPPING"):
            raise CannotResume(ERROR_RESUME_ACTIVE.format(status=status, **ids))
        if status != "COMPLETED":
            raise CannotResume(ERROR_RESUME_NOT_COMPLETED.format(status=status, **ids))
        failed = sorted(
            (
                (node_step(node), node["UniqueId"])
                for node in workflow_run.get("Graph", {}).get("Nodes", [])
                if needs_resume(node)
            ),
            key=lambda pair: step_order(pair[0]),
        )
        if not failed:
            raise CannotResume(ERROR_RESUME_NOTHING_FAILED.format(**ids))
        steps, node_ids = zip(*failed, strict=True)
        return ResumePoint(steps=steps, node_ids=node_ids, detail=workflow_run)

    def resume(self, run: PipelineRun, resumed: PipelineRun, point: ResumePoint) -> None:
        """Claim ``resumed`` and resume ``run``'s workflow run from ``point``.

        Any AWS error fails ``resumed`` with AWS's message, transient ones too
        (botocore retried them already): a later poll could only start a whole
        new workflow run, not resume this one.
        """
        if pipeline_run_claim(resumed, host="", pid=None) is None:
            return  # cancelled before it started
        name = workflow_name()
        doing = f"resuming run {run.glue_run_id} of workflow {name} from {', '.join(point.steps)}"
        try:
            response = self.glue.resume_workflow_run(
                Name=name, RunId=run.glue_run_id, NodeIds=list(point.node_ids)
            )
        except (ClientError, BotoCoreError) as error:
            logger.warning("run %s: Glue refused %s: %s", resumed.pk, doing, error)
            self._end(resumed, PipelineRun.Status.FAILED, aws_error_message(error, doing))
            return
        resumed.glue_run_id, resumed.heartbeat_at = response["RunId"], timezone.now()
        PipelineRun.objects.filter(pk=resumed.pk).update(
            glue_run_id=resumed.glue_run_id, heartbeat_at=resumed.heartbeat_at
        )
        try:
            self._keep_run_properties(resumed, point.detail.get("WorkflowRunProperties", {}))
        except (ClientError, BotoCoreError) as error:
            doing = f"putting back the run properties of run {resumed.glue_run_id}"
            self._stop(resumed)
            self._end(resumed, PipelineRun.Status.FAILED, aws_error_message(error, doing))
            return
        copy_succeeded_steps(run, resumed, point.detail)
        run_event(
            resumed,
            PipelineRunEvent.Action.STARTED,
            message=(
                f"Glue workflow {name}, run {resumed.glue_run_id}: resumes run "
                f"{run.glue_run_id} from {', '.join(point.steps)}."
            ),
        )

    def _keep_run_properties(self, resumed: PipelineRun, original: dict[str, str]) -> None:
        """Read the resumed workflow run's properties back and put those of the
        run it resumes that are missing (the app's, and the jobs' that will not
        run again): Glue says a resume keeps them, publishing relies on it."""
        name = workflow_name()
        current = self.glue.get_workflow_run_properties(Name=name, RunId=resumed.glue_run_id)
        kept = current.get("RunProperties", {})
        if missing := {key: value for key, value in original.items() if key not in kept}:
            logger.warning(
                "run %s: Glue run %s lacked the run properties %s: put back",
                resumed.pk,
                resumed.glue_run_id,
                ", ".join(sorted(missing)),
            )
            self.glue.put_workflow_run_properties(
                Name=name, RunId=resumed.glue_run_id, RunProperties=missing
            )

    # --- Start ----------------------------------------------------------------------------

    def _start_workflow(self, run: PipelineRun, *, adopt: bool) -> None:
        name = workflow_name()
        # A start that timed out may have reached Glue: find it before starting another.
        glue_run_id = self._started_run_id(run, name) if adopt else None
        if glue_run_id is None:
            response = self.glue.start_workflow_run(Name=name, RunProperties=run_properties(run))
            glue_run_id = response["RunId"]
        run.glue_run_id, run.heartbeat_at = glue_run_id, timezone.now()
        PipelineRun.objects.filter(pk=run.pk).update(
            glue_run_id=run.glue_run_id, heartbeat_at=run.heartbeat_at
        )
        run_event(
            run,
            PipelineRunEvent.Action.STARTED,
            message=f"Glue workflow {name}, run {glue_run_id}.",
        )

    def _started_run_id(self, run: PipelineRun, name: str) -> str | None:
        response = self.glue.get_workflow_runs(Name=name, IncludeGraph=False, MaxResults=10)
        for workflow_run in response.get("Runs", []):
            if workflow_run.get("WorkflowRunProperties", {}).get("run_id") == str(run.pk):
                return workflow_run["WorkflowRunId"]
        return None

    # --- Refresh --------------------------------------------------------------------------

    def _refresh(self, run: PipelineRun) -> None:
        workflow_run = self.glue.get_workflow_run(
            Name=workflow_name(), RunId=run.glue_run_id, IncludeGraph=True
        )["Run"]
        run.heartbeat_at = timezone.now()  # the reaper leaves a polled run alone
        PipelineRun.objects.filter(pk=run.pk).update(heartbeat_at=run.heartbeat_at)
        nodes = workflow_run.get("Graph", {}).get("Nodes", [])
        steps = record_steps(run, nodes, workflow_run.get("WorkflowRunProperties", {}))
        status = workflow_run.get("Status")
        if status in ("RUNNING", "STOPPING"):
            if status == "RUNNING" and run.cancel_requested_at is not None:
                self._stop(run)
            return
        run.steps.filter(status=Status.PENDING).update(status=Status.SKIPPED, log="Not run.")
        if run.cancel_requested_at is not None:
            self._end(run, PipelineRun.Status.CANCELLED, CANCELLED)
        elif status == "COMPLETED":
            self._completed(run, workflow_run, steps)
        elif status == "STOPPED":
            self._end(run, PipelineRun.Status.FAILED, ERROR_STOPPED)
        else:
            message = workflow_run.get("ErrorMessage") or "no error message"
            self._end(
                run,
                PipelineRun.Status.FAILED,
                ERROR_WORKFLOW.format(status=status, message=message),
            )

    def _completed(self, run: PipelineRun, workflow_run: dict, steps: list[PipelineStep]) -> None:
        statistics = workflow_run.get("Statistics", {})
        unsuccessful = sum(statistics.get(name, 0) for name in UNSUCCESSFUL_ACTIONS)
        if failed := [step for step in steps if step.status == Status.FAILED]:
            self._end(run, PipelineRun.Status.FAILED, failed[0].error)
        elif unsuccessful:
            self._end(run, PipelineRun.Status.FAILED, ERROR_UNSUCCESSFUL.format(count=unsuccessful))
        elif not_run := not_succeeded(steps):
            # A completed workflow run is no proof the jobs ran (one whose graph is
            # empty completes too): every job and the crawler must have succeeded.
            self._end(
                run, PipelineRun.Status.FAILED, ERROR_NOT_RUN.format(steps=", ".join(not_run))
            )
        else:
            self._publish(run)

    def _publish(self, run: PipelineRun) -> None:
        properties = self.glue.get_workflow_run_properties(
            Name=workflow_name(), RunId=run.glue_run_id
        )["RunProperties"]
        try:
            watermarks = watermarks_to(properties)
            results = check_results(properties)
        except JobContractError as error:
            self._end(run, PipelineRun.Status.FAILED, str(error))
            return
        with transaction.atomic():
            if (locked := _lock_running(run)) is None:
                return
            try:
                checks_conclude(locked, results, watermarks)
            except ChecksFailed as failed:
                run_finish(locked, PipelineRun.Status.CHECKS_FAILED, str(failed))
                run_event(locked, PipelineRunEvent.Action.CHECKS_FAILED, message=locked.error)
                run.refresh_from_db()
                return
            try:
                pipeline_run_publish(locked, watermarks)
            except (ClientError, BotoCoreError, DatabaseError):
                raise  # transient ones: the next poll publishes
            except Exception as error:
                logger.exception("publishing Glue run %s failed", run.pk)
                failure = ERROR_PUBLISH.format(error=f"{type(error).__name__}: {error}")
                locked.refresh_from_db()  # forget what the failed publish set on it
                pipeline_run_finish(locked, PipelineRun.Status.FAILED, failure)
        run.refresh_from_db()

    # --- Helpers --------------------------------------------------------------------------

    def _stop(self, run: PipelineRun) -> None:
        try:
            self.glue.stop_workflow_run(Name=workflow_name(), RunId=run.glue_run_id)
        except (ClientError, BotoCoreError) as error:
            # Already stopping or ended (IllegalWorkflowStateException), or AWS
            # unreachable: the run's state says which at the next refresh.
            logger.warning(
                "could not stop Glue run %s of run %s: %s", run.glue_run_id, run.pk, error
            )

    def _end(self, run: PipelineRun, status: str, error: str) -> None:
        """Fail or cancel the run, unless another poller ended it first."""
        with transaction.atomic():
            if (locked := _lock_running(run)) is not None:
                pipeline_run_finish(locked, status, error)
        run.refresh_from_db()

    def _call(self, run: PipelineRun, doing: str, func, *args, **kwargs) -> None:
        """Call ``func`` (which calls AWS): a transient AWS error leaves the run
        for the next poll, any other fails it with AWS's message."""
        try:
            func(*args, **kwargs)
        except (ClientError, BotoCoreError) as error:
            if is_transient(error):
                logger.warning("run %s: Glue unavailable while %s: %s", run.pk, doing, error)
                return
            logger.warning("run %s: Glue refused %s: %s", run.pk, doing, error)
            self._end(run, PipelineRun.Status.FAILED, aws_error_message(error, doing))


def is_transient(error: Exception) -> bool:
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return code in TRANSIENT_ERROR_CODES or status >= 500
    return isinstance(error, AwsConnectionError | HTTPClientError)


def aws_error_message(error: Exception, doing: str) -> str:
    """ "Glue: AccessDeniedException: User ... is not authorized ... (starting workflow)"."""
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code, message = details.get("Code", "Error"), details.get("Message", str(error))
    else:
        code, message = type(error).__name__, str(error)
    return ERROR_AWS.format(code=code, message=message, doing=doing)


def _lock_running(run: PipelineRun) -> PipelineRun | None:
    """The run, row locked, if it is still running (call inside a transaction)."""
    locked = PipelineRun.objects.select_for_update().get(pk=run.pk)
    return locked if locked.status == PipelineRun.Status.RUNNING else None


ENGINE = GlueEngine
