"""The Glue engine: start, poll and cancel a Glue workflow run for a pipeline run.

Starting and stopping run against moto's server. moto's workflow runs stay
RUNNING forever and have no graph, so the poll of a run to its end replays
real-shaped ``get_workflow_run`` responses with botocore's Stubber, on the
very client the engine uses (``aws_client("glue")``).
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO
from itertools import pairwise

import boto3
import pyarrow as pa
import pytest
from botocore.stub import Stubber
from django.core.management import CommandError, call_command
from django.utils import timezone
from pyiceberg.expressions import AlwaysTrue

from lake import selectors, services, tasks
from lake.aws.clients import aws_client
from lake.aws.names import crawler_name, job_name, workflow_name
from lake.catalog import catalog_cache_clear, ensure_table
from lake.core.checks import Check, CheckResult, results_to_json
from lake.core.table_writes import replace_rows
from lake.engines import get_engine
from lake.engines.base import CannotResume
from lake.engines.glue import CANCELLED, ERROR_STOPPED, GlueEngine
from lake.management.commands import lake as lake_command
from lake.models import PipelineRun, PipelineRunEvent, PipelineStep, Watermark
from lake.pipeline.runner import ERROR_NOT_POLLED, pipeline_run_create, pipeline_runs_reap
from lake.pipeline.schemas import STAGED_MODELS, table_name

pytestmark = pytest.mark.django_db

Status = PipelineStep.Status
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
BUCKET = "sakila-lake-engine-test"


# --- Setup ------------------------------------------------------------------------------


@pytest.fixture
def glue(aws, settings):
    """LAKE_ENGINE=glue, with the workflow, its jobs and its crawler on moto."""
    settings.LAKE_ENGINE = "glue"
    client = boto3.client("glue", region_name="us-east-1")
    for job in ("extract", "marts"):
        client.create_job(
            Name=job_name(job),
            Role="arn:aws:iam::123456789012:role/sakila-glue",
            Command={"Name": "glueetl", "ScriptLocation": f"s3://assets/{job}_job.py"},
            GlueVersion="5.0",
        )
    client.create_crawler(
        Name=crawler_name(),
        Role="arn:aws:iam::123456789012:role/sakila-glue",
        DatabaseName="sakila_raw",
        Targets={"S3Targets": [{"Path": f"s3://{BUCKET}/lake/raw/"}]},
    )
    client.create_workflow(Name=workflow_name(), MaxConcurrentRuns=1)
    return client


@pytest.fixture
def glue_catalog(aws, settings):
    """LAKE_CATALOG=glue, the warehouse in a bucket on moto."""
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
    settings.LAKE_CATALOG = "glue"
    settings.LAKE_WAREHOUSE = f"s3://{BUCKET}/lake"
    catalog_cache_clear()  # moto was reset: forget the databases a cached catalog made
    yield
    catalog_cache_clear()


@pytest.fixture
def stub(aws):
    """A Stubber on the engine's own Glue client; every queued response must be used."""
    with Stubber(aws_client("glue")) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def running(glue) -> PipelineRun:
    """A run started on moto: running, with a Glue run id."""
    run = pipeline_run_create()
    GlueEngine().start(run)
    assert run.status == PipelineRun.Status.RUNNING and run.glue_run_id, run.error
    return run


def publish_previous_run() -> PipelineRun:
    """A run that succeeded earlier: its snapshots and watermarks are the next run's base."""
    previous = PipelineRun.objects.create(
        status=PipelineRun.Status.SUCCEEDED,
        engine="glue",
        snapshots={"staging.rental": 11, "marts.fact_sales": 22},
        finished_at=timezone.now(),
    )
    Watermark.objects.create(table="rental", value=datetime(2005, 8, 23, 22, 50), run=previous)
    Watermark.objects.create(table="payment", value=datetime(2005, 8, 23, 22, 42), run=previous)
    return previous


# --- Real-shaped get_workflow_run responses ---------------------------------------------------


def job_node(job: str, state: str | None = None, *, error: str = "", minutes: int = 0) -> dict:
    node = {"Type": "JOB", "Name": job_name(job), "UniqueId": f"wnode_{job}", "JobDetails": {}}
    if state is not None:
        started = T0 + timedelta(minutes=minutes)
        job_run = {
            "Id": f"jr_{job}0001",
            "Attempt": 0,
            "TriggerName": f"{workflow_name()}-before-{job}",
            "JobName": job_name(job),
            "JobMode": "SCRIPT",
            "StartedOn": started,
            "LastModifiedOn": started + timedelta(minutes=4),
            "JobRunState": state,
            "Arguments": {"--enable-metrics": "true"},
            "PredecessorRuns": [],
            "AllocatedCapacity": 2,
            "ExecutionTime": 0 if state == "RUNNING" else 240,
            "Timeout": 120,
            "MaxCapacity": 2.0,
            "WorkerType": "G.1X",
            "NumberOfWorkers": 2,
            "LogGroupName": "/aws-glue/jobs",
            "GlueVersion": "5.0",
        }
        if state != "RUNNING":
            job_run["CompletedOn"] = started + timedelta(minutes=4)
        if error:
            job_run["ErrorMessage"] = error
        node["JobDetails"]["JobRuns"] = [job_run]
    return node


def crawler_node(state: str | None = None, *, error: str = "") -> dict:
    node = {"Type": "CRAWLER", "Name": crawler_name(), "UniqueId": "wnode_crawl"}
    node["CrawlerDetails"] = {"Crawls": []}
    if state is not None:
        crawl = {
            "State": state,
            "StartedOn": T0 + timedelta(minutes=10),
            "LogGroup": "/aws-glue/crawlers",
            "LogStream": crawler_name(),
        }
        if state != "RUNNING":
            crawl["CompletedOn"] = T0 + timedelta(minutes=12)
        if error:
            crawl["ErrorMessage"] = error
        node["CrawlerDetails"]["Crawls"] = [crawl]
    return node


def trigger_node(name: str, kind: str, then: str) -> dict:
    trigger = {
        "Name": f"{workflow_name()}-{name}",
        "WorkflowName": workflow_name(),
        "Type": kind,
        "State": "ACTIVATED" if kind == "CONDITIONAL" else "CREATED",
        "Actions": [{"CrawlerName": then} if then == crawler_name() else {"JobName": then}],
    }
    return {
        "Type": "TRIGGER",
        "Name": trigger["Name"],
        "UniqueId": f"wnode_{name}",
        "TriggerDetails": {"Trigger": trigger},
    }


def workflow_run(
    run: PipelineRun,
    status: str,
    *,
    extract: str | None = None,
    marts: str | None = None,
    crawl: str | None = None,
    job_error: str = "",
    crawl_error: str = "",
    statistics: dict | None = None,
    properties: dict | None = None,
) -> dict:
    """A get_workflow_run response for the workflow ``lake deploy`` makes:
    start -> extract -> marts -> crawler, with its triggers in between."""
    nodes = [
        trigger_node("start", "ON_DEMAND", job_name("extract")),
        job_node("extract", extract, error=job_error if extract == "FAILED" else ""),
        trigger_node("after-extract", "CONDITIONAL", job_name("marts")),
        job_node("marts", marts, error=job_error if marts == "FAILED" else "", minutes=5),
        trigger_node("after-marts", "CONDITIONAL", crawler_name()),
        crawler_node(crawl, error=crawl_error),
    ]
    ids = [node["UniqueId"] for node in nodes]
    counts = {"TotalActions": 3, "TimeoutActions": 0, "FailedActions": 0, "StoppedActions": 0,
              "SucceededActions": 0, "RunningActions": 0, "ErroredActions": 0,
              "WaitingActions": 0}  # fmt: skip
    states = [extract, marts, crawl]
    counts["SucceededActions"] = states.count("SUCCEEDED")
    counts["RunningActions"] = states.count("RUNNING")
    counts["FailedActions"] = states.count("FAILED")
    counts.update(statistics or {})
    response = {
        "Name": workflow_name(),
        "WorkflowRunId": run.glue_run_id,
        "WorkflowRunProperties": {
            "run_id": str(run.pk),
            "full": "true" if run.full else "false",
            **(properties or {}),
        },
        "StartedOn": T0,
        "Status": status,
        "Statistics": counts,
        "Graph": {
            "Nodes": nodes,
            "Edges": [{"SourceId": a, "DestinationId": b} for a, b in pairwise(ids)],
        },
    }
    if status != "RUNNING":
        response["CompletedOn"] = T0 + timedelta(minutes=15)
    return {"Run": response}


def workflow_succeeded(run: PipelineRun, **options) -> dict:
    """A workflow run that completed with every node succeeded (the jobs'
    properties unless ``properties`` says otherwise)."""
    return workflow_run(
        run, "COMPLETED", extract="SUCCEEDED", marts="SUCCEEDED", crawl="SUCCEEDED",
        **{"properties": JOB_PROPERTIES, **options},
    )  # fmt: skip


def expect_poll(stub: Stubber, run: PipelineRun, response: dict) -> None:
    params = {"Name": workflow_name(), "RunId": run.glue_run_id, "IncludeGraph": True}
    stub.add_response("get_workflow_run", response, params)


def expect_ended_poll(stub: Stubber, run: PipelineRun, response: dict) -> None:
    """A poll that finds the workflow run ended: the engine then reads its properties."""
    expect_poll(stub, run, response)
    properties = response["Run"]["WorkflowRunProperties"]
    params = {"Name": workflow_name(), "RunId": run.glue_run_id}
    stub.add_response("get_workflow_run_properties", {"RunProperties": properties}, params)


def check_results_json(status: str) -> str:
    """The marts job's ``check_results``: one check of fact_sales's grain."""
    check = Check("fact_sales", "one row per rental_id", "grain", "error", "select 1")
    rows = [{"rental_id": 7, "row_count": 2}] if status == "failed" else []
    return results_to_json([CheckResult(check, status, len(rows), rows)])


STAGED = sorted(table_name(model) for model in STAGED_MODELS)
# Every staged table's watermark (an aware one read as the site's time).
WATERMARKS_TO = {
    **{table: "2006-02-14 15:16:03" for table in STAGED},
    "payment": "2006-02-14 15:16:03+00:00",
}
PUBLISHED_WATERMARKS = {table: datetime(2006, 2, 14, 15, 16, 3) for table in STAGED}
JOB_PROPERTIES = {
    "watermarks_to": json.dumps(WATERMARKS_TO),
    "extract_rows": json.dumps({"rental": 120, "payment": 130}),
    "changed_rows": json.dumps({"rental": 20, "payment": 30}),
    "mart_rows": json.dumps({"fact_sales": 120, "dim_film": 7}),
    "check_results": check_results_json("passed"),
}


def steps(run: PipelineRun) -> list[tuple[str, str, int]]:
    return list(run.steps.order_by("position").values_list("name", "status", "rows"))


# --- Start, against moto ------------------------------------------------------------------


def test_start_sends_the_run_properties_and_keeps_the_glue_run_id(glue):
    publish_previous_run()
    run = pipeline_run_create()

    GlueEngine().start(run)

    run.refresh_from_db()
    assert run.status == PipelineRun.Status.RUNNING and run.engine == "glue"
    assert run.glue_run_id.startswith("wr_") and run.pid is None
    properties = glue.get_workflow_run_properties(Name=workflow_name(), RunId=run.glue_run_id)
    assert properties["RunProperties"] == {
        "run_id": str(run.pk),
        "full": "false",
        "watermarks_from": json.dumps(
            {"payment": "2005-08-23 22:42:00", "rental": "2005-08-23 22:50:00"}
        ),
        "published_snapshots": json.dumps({"marts.fact_sales": 22, "staging.rental": 11}),
        # Late fees of open rentals accrue to when the run started (local time).
        "as_of": run.started_at.replace(microsecond=0).isoformat(" "),
    }
    started = run.events.get(action=PipelineRunEvent.Action.STARTED)
    assert started.message == f"Glue workflow sakila-lake, run {run.glue_run_id}."


def test_the_first_run_asks_for_a_full_build(glue):
    run = pipeline_run_create()
    GlueEngine().start(run)
    properties = glue.get_workflow_run_properties(Name=workflow_name(), RunId=run.glue_run_id)
    assert properties["RunProperties"]["full"] == "true"
    assert properties["RunProperties"]["watermarks_from"] == "{}"


def test_a_missing_workflow_fails_the_run_with_the_aws_message(aws, settings):
    settings.LAKE_ENGINE = "glue"
    run = pipeline_run_create()

    GlueEngine().start(run)

    run.refresh_from_db()
    assert run.status == PipelineRun.Status.FAILED
    assert run.error == (
        "Glue: EntityNotFoundException: Entity not found (starting workflow sakila-lake)"
    )
    assert run.glue_run_id == "" and run.finished_at is not None
    assert run.events.filter(action=PipelineRunEvent.Action.FAILED, message=run.error).exists()


def test_a_run_delivered_twice_or_cancelled_while_queued_starts_one_workflow_run(glue):
    run = pipeline_run_create()
    GlueEngine().start(run)
    GlueEngine().start(PipelineRun.objects.get(pk=run.pk))
    runs = glue.get_workflow_runs(Name=workflow_name())["Runs"]
    assert [r["WorkflowRunId"] for r in runs] == [PipelineRun.objects.get(pk=run.pk).glue_run_id]

    PipelineRun.objects.filter(pk=run.pk).update(status=PipelineRun.Status.FAILED)
    cancelled = services.pipeline_run_cancel(run=pipeline_run_create())
    GlueEngine().start(cancelled)
    cancelled.refresh_from_db()
    assert cancelled.status == PipelineRun.Status.CANCELLED and not cancelled.glue_run_id
    assert len(glue.get_workflow_runs(Name=workflow_name())["Runs"]) == 1


def test_a_run_on_moto_stays_running_and_each_poll_is_a_heartbeat(running):
    # moto's workflow runs never end and have no graph: the run waits, alive.
    PipelineRun.objects.filter(pk=running.pk).update(heartbeat_at=T0.replace(tzinfo=None))

    run = GlueEngine().refresh(running)

    assert run.status == PipelineRun.Status.RUNNING and not run.steps.exists()
    assert run.heartbeat_at > datetime(2026, 3, 2, 10, 0)


def test_a_throttled_start_is_retried_by_the_next_poll_without_a_second_workflow_run(glue, stub):
    run = pipeline_run_create()
    stub.add_client_error(
        "start_workflow_run", "ThrottlingException", "Rate exceeded", http_status_code=400
    )

    GlueEngine().start(run)

    run.refresh_from_db()
    assert run.status == PipelineRun.Status.RUNNING and run.glue_run_id == "", run.error
    # The throttled request had reached Glue after all: the poll finds its run.
    stub.deactivate()
    reached = glue.start_workflow_run(Name=workflow_name(), RunProperties={"run_id": str(run.pk)})
    GlueEngine().refresh(run)
    assert run.glue_run_id == reached["RunId"]
    assert len(glue.get_workflow_runs(Name=workflow_name())["Runs"]) == 1
    assert run.events.filter(action=PipelineRunEvent.Action.STARTED).count() == 1


# --- Polling to the end, with real-shaped responses ----------------------------------------


def test_a_running_workflow_updates_the_steps_and_the_run_stays_active(running, stub):
    PipelineRun.objects.filter(pk=running.pk).update(heartbeat_at=T0.replace(tzinfo=None))
    expect_poll(stub, running, workflow_run(running, "RUNNING", extract="RUNNING"))

    run = GlueEngine().refresh(running)

    assert run.is_active and run.heartbeat_at > datetime(2026, 3, 2, 10, 0)
    assert steps(run) == [
        ("extract", Status.RUNNING, 0),
        ("marts", Status.PENDING, 0),
        ("crawl", Status.PENDING, 0),
    ]  # the triggers are not steps
    extract = run.steps.get(name="extract")
    assert extract.started_at == datetime(2026, 3, 2, 10, 0) and extract.finished_at is None
    assert "jr_extract0001" in extract.log


def test_aws_times_are_stored_in_the_sites_time_zone(running, stub, settings):
    settings.TIME_ZONE = "America/New_York"
    expect_poll(stub, running, workflow_run(running, "RUNNING", extract="SUCCEEDED"))

    run = GlueEngine().refresh(running)

    extract = run.steps.get(name="extract")
    assert (extract.started_at, extract.finished_at) == (
        datetime(2026, 3, 2, 5, 0),  # 10:00 UTC
        datetime(2026, 3, 2, 5, 4),
    )


def test_a_completed_workflow_publishes_the_run(running, stub, glue_catalog):
    # What the marts job wrote: a table in the Glue catalog, not yet published.
    schema = pa.schema([pa.field("rental_id", pa.int64()), pa.field("amount", pa.decimal128(7, 2))])
    table = ensure_table("marts.fact_sales", schema)
    rows = pa.Table.from_pylist([{"rental_id": 1, "amount": Decimal("2.99")}], schema=schema)
    replace_rows(table, rows, AlwaysTrue())
    snapshot_id = table.refresh().current_snapshot().snapshot_id
    engine = GlueEngine()
    expect_poll(
        stub,
        running,
        workflow_run(running, "RUNNING", extract="SUCCEEDED", marts="RUNNING",
                     properties=JOB_PROPERTIES),
    )  # fmt: skip
    done = workflow_succeeded(running)
    expect_ended_poll(stub, running, done)

    assert engine.refresh(running).is_active
    assert selectors.published_run() is None  # nothing visible before the workflow completes
    run = engine.refresh(running)

    assert run.status == PipelineRun.Status.SUCCEEDED, run.error
    assert run.snapshots == {"marts.fact_sales": snapshot_id}
    assert selectors.published_run() == run
    assert dict(Watermark.objects.values_list("table", "value")) == PUBLISHED_WATERMARKS
    assert Watermark.objects.filter(run=run).count() == len(STAGED)
    assert run.watermarks_to == {table: "2006-02-14 15:16:03" for table in STAGED}
    assert steps(run) == [
        ("extract", Status.SUCCEEDED, 250),
        ("extract payment", Status.SUCCEEDED, 130),
        ("extract rental", Status.SUCCEEDED, 120),
        ("stage payment", Status.SUCCEEDED, 30),
        ("stage rental", Status.SUCCEEDED, 20),
        ("marts", Status.SUCCEEDED, 127),
        ("crawl", Status.SUCCEEDED, 0),
    ]
    listed = selectors.pipeline_run_list().get(pk=run.pk)  # what the runs page shows
    assert (listed.rows_read, listed.rows_written) == (250, 20 + 30 + 127)
    marts = run.steps.get(name="marts")
    assert (marts.started_at, marts.finished_at) == (
        datetime(2026, 3, 2, 10, 5),
        datetime(2026, 3, 2, 10, 9),
    )
    assert "dim_film: 7, fact_sales: 120" in marts.log
    assert run.events.filter(action=PipelineRunEvent.Action.SUCCEEDED).count() == 1
    # A late poll changes nothing.
    assert engine.refresh(run).status == PipelineRun.Status.SUCCEEDED


def test_a_failed_job_fails_the_run_with_its_error_and_publishes_nothing(running, stub):
    previous = publish_previous_run()
    previous_watermarks = dict(Watermark.objects.values_list("table", "value"))
    error = "An error occurred while calling o112.load. Communications link failure"
    expect_poll(
        stub,
        running,
        workflow_run(running, "COMPLETED", extract="FAILED", job_error=error),
    )

    run = GlueEngine().refresh(running)

    assert run.status == PipelineRun.Status.FAILED
    assert run.error == f"extract failed on Glue (FAILED): {error}"
    assert steps(run) == [
        ("extract", Status.FAILED, 0),
        ("marts", Status.SKIPPED, 0),
        ("crawl", Status.SKIPPED, 0),
    ]
    assert run.steps.get(name="extract").error == run.error
    assert run.snapshots == {} and selectors.published_run() == previous
    assert dict(Watermark.objects.values_list("table", "value")) == previous_watermarks
    assert run.events.filter(action=PipelineRunEvent.Action.FAILED, message=run.error).exists()


def test_a_failed_crawler_fails_the_run(running, stub):
    expect_poll(
        stub,
        running,
        workflow_run(
            running, "COMPLETED", extract="SUCCEEDED", marts="SUCCEEDED", crawl="FAILED",
            crawl_error="Insufficient Lake Formation permission(s) on sakila_raw",
            properties=JOB_PROPERTIES,
        ),
    )  # fmt: skip

    run = GlueEngine().refresh(running)

    assert run.status == PipelineRun.Status.FAILED
    assert run.error == (
        "crawl failed on Glue (FAILED): Insufficient Lake Formation permission(s) on sakila_raw"
    )
    assert run.steps.get(name="marts").status == Status.SUCCEEDED
    assert selectors.published_run() is None and not Watermark.objects.exists()


def test_a_completed_workflow_with_unsuccessful_actions_in_its_statistics_fails_the_run(
    running, stub
):
    # The graph may not show what went wrong (a job run list already pruned):
    # the statistics still count it.
    expect_poll(
        stub,
        running,
        workflow_succeeded(running, statistics={"SucceededActions": 2, "TimeoutActions": 1}),
    )  # fmt: skip

    run = GlueEngine().refresh(running)

    assert run.status == PipelineRun.Status.FAILED
    assert run.error.startswith("The Glue workflow run completed, but 1 of its actions did not")
    assert selectors.published_run() is None


def test_a_completed_workflow_whose_crawler_never_ran_fails_the_run(running, stub):
    expect_poll(
        stub,
        running,
        workflow_run(running, "COMPLETED", extract="SUCCEEDED", marts="SUCCEEDED",
                     properties=JOB_PROPERTIES),
    )  # fmt: skip

    run = GlueEngine().refresh(running)

    assert run.status == PipelineRun.Status.FAILED
    assert run.error == "The Glue workflow run completed, but crawl did not run."


def test_cancel_stops_the_workflow_run_and_a_stopped_run_is_cancelled(running, stub, manager):
    stub.add_response(
        "stop_workflow_run", {}, {"Name": workflow_name(), "RunId": running.glue_run_id}
    )

    services.pipeline_run_cancel(run=running, user=manager)

    stub.assert_no_pending_responses()  # stop_workflow_run was sent
    running.refresh_from_db()
    assert running.status == PipelineRun.Status.RUNNING and running.cancel_requested_at
    expect_poll(stub, running, workflow_run(running, "STOPPING", extract="STOPPING"))
    expect_poll(stub, running, workflow_run(running, "STOPPED", extract="STOPPED"))
    engine = GlueEngine()

    assert engine.refresh(running).status == PipelineRun.Status.RUNNING
    run = engine.refresh(running)

    assert run.status == PipelineRun.Status.CANCELLED and run.error == CANCELLED
    assert run.steps.get(name="extract").status == Status.SKIPPED
    actions = set(run.events.values_list("action", flat=True))
    assert {PipelineRunEvent.Action.CANCEL_REQUESTED, PipelineRunEvent.Action.CANCELLED} <= actions


def test_cancel_on_moto_sends_stop_and_the_next_poll_asks_again(running, manager):
    # moto accepts stop_workflow_run but its run stays RUNNING: the poll asks again.
    services.pipeline_run_cancel(run=running, user=manager)
    run = GlueEngine().refresh(running)
    assert run.status == PipelineRun.Status.RUNNING and run.cancel_requested_at is not None


def test_a_workflow_run_stopped_outside_the_app_fails_the_run(running, stub):
    expect_poll(stub, running, workflow_run(running, "STOPPED", extract="STOPPED"))
    run = GlueEngine().refresh(running)
    assert run.status == PipelineRun.Status.FAILED and run.error == ERROR_STOPPED


def test_a_workflow_run_in_error_fails_the_run_with_its_message(running, stub):
    response = workflow_run(running, "ERROR", extract="SUCCEEDED")
    response["Run"]["ErrorMessage"] = "Concurrent runs exceeded for workflow sakila-lake"
    expect_poll(stub, running, response)

    run = GlueEngine().refresh(running)

    assert run.status == PipelineRun.Status.FAILED
    assert run.error == (
        "The Glue workflow run ended ERROR: Concurrent runs exceeded for workflow sakila-lake"
    )


def test_throttling_leaves_the_run_as_it_is_and_the_next_poll_goes_on(running, stub):
    beat = datetime(2026, 3, 2, 10, 0)
    PipelineRun.objects.filter(pk=running.pk).update(heartbeat_at=beat)
    stub.add_client_error(
        "get_workflow_run", "ThrottlingException", "Rate exceeded", http_status_code=400
    )
    expect_poll(stub, running, workflow_run(running, "RUNNING", extract="RUNNING"))
    engine = GlueEngine()

    throttled = engine.refresh(running)

    assert throttled.status == PipelineRun.Status.RUNNING and throttled.error == ""
    assert throttled.heartbeat_at == beat and not throttled.steps.exists()
    polled = engine.refresh(throttled)
    assert polled.status == PipelineRun.Status.RUNNING and polled.heartbeat_at > beat
    assert polled.steps.get(name="extract").status == Status.RUNNING


def test_access_denied_fails_the_run_with_the_aws_message(running, stub):
    message = (
        "User: arn:aws:sts::123456789012:assumed-role/sakila-app/i-0abc is not authorized "
        "to perform: glue:GetWorkflowRun"
    )
    stub.add_client_error(
        "get_workflow_run", "AccessDeniedException", message, http_status_code=400
    )

    run = GlueEngine().refresh(running)

    assert run.status == PipelineRun.Status.FAILED
    assert run.error == (
        f"Glue: AccessDeniedException: {message} "
        f"(reading run {running.glue_run_id} of workflow sakila-lake)"
    )


def test_a_completed_workflow_without_watermarks_fails_the_run(running, stub):
    properties = {"extract_rows": JOB_PROPERTIES["extract_rows"]}
    done = workflow_succeeded(running, properties=properties)
    expect_ended_poll(stub, running, done)

    run = GlueEngine().refresh(running)

    assert run.status == PipelineRun.Status.FAILED
    assert run.error == (
        "The workflow run property watermarks_to is missing (set by the extract job)."
    )


def test_a_completed_workflow_run_with_an_empty_graph_publishes_nothing(running, stub):
    previous = publish_previous_run()
    before = dict(Watermark.objects.values_list("table", "value"))
    done = workflow_succeeded(running)
    done["Run"]["Graph"] = {"Nodes": [], "Edges": []}  # no proof that any job ran
    done["Run"]["Statistics"] = {"TotalActions": 0, "SucceededActions": 0}
    expect_poll(stub, running, done)

    run = GlueEngine().refresh(running)

    assert run.status == PipelineRun.Status.FAILED
    assert run.error == "The Glue workflow run completed, but extract, marts, crawl did not run."
    assert selectors.published_run() == previous
    assert dict(Watermark.objects.values_list("table", "value")) == before


def test_a_watermark_missing_for_a_staged_table_fails_the_run(running, stub):
    watermarks = {table: iso for table, iso in WATERMARKS_TO.items() if table != "staff"}
    done = workflow_succeeded(
        running, properties={**JOB_PROPERTIES, "watermarks_to": json.dumps(watermarks)}
    )
    expect_ended_poll(stub, running, done)

    run = GlueEngine().refresh(running)

    assert run.status == PipelineRun.Status.FAILED
    assert run.error == (
        "The workflow run property watermarks_to has no watermark for staff "
        "(set by the extract job)."
    )
    assert selectors.published_run() is None and not Watermark.objects.exists()


def test_a_marts_job_whose_checks_failed_publishes_nothing_and_says_which(
    running, stub, glue_catalog
):
    previous = publish_previous_run()
    before = dict(Watermark.objects.values_list("table", "value"))
    failing = {**JOB_PROPERTIES, "check_results": check_results_json("failed")}
    expect_ended_poll(stub, running, workflow_succeeded(running, properties=failing))

    run = GlueEngine().refresh(running)

    assert run.status == PipelineRun.Status.CHECKS_FAILED
    assert run.error == (
        "1 of 1 checks failed, so nothing was published: "
        "fact_sales: one row per rental_id (1 rows)."
    )
    check = run.checks.get()
    assert (check.status, check.rows) == ("failed", [{"rental_id": 7, "row_count": 2}])
    assert run.events.filter(action=PipelineRunEvent.Action.CHECKS_FAILED).exists()
    assert selectors.published_run() == previous
    assert dict(Watermark.objects.values_list("table", "value")) == before
    assert run.watermarks_to["rental"] == "2006-02-14 15:16:03"  # kept: publish anyway


def test_a_marts_job_that_ran_no_checks_fails_the_run(running, stub):
    properties = {k: v for k, v in JOB_PROPERTIES.items() if k != "check_results"}
    expect_ended_poll(stub, running, workflow_succeeded(running, properties=properties))

    run = GlueEngine().refresh(running)

    assert run.status == PipelineRun.Status.FAILED
    assert run.error == (
        "The workflow run property check_results is missing (set by the marts job)."
    )
    assert selectors.published_run() is None


def test_a_catalog_that_cannot_be_read_fails_the_publish_and_leaves_the_watermarks(
    running, stub, glue_catalog
):
    previous = publish_previous_run()
    ensure_table("staging.rental", pa.schema([pa.field("rental_id", pa.int64())]))
    boto3.client("glue", region_name="us-east-1").create_table(
        DatabaseName="sakila_marts",
        TableInput={
            "Name": "fact_sales",
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {
                "table_type": "ICEBERG",
                "metadata_location": f"s3://{BUCKET}/lake/gone/00001.metadata.json",
            },
        },
    )  # a table whose metadata file was deleted
    done = workflow_succeeded(running)
    expect_ended_poll(stub, running, done)

    run = GlueEngine().refresh(running)

    assert run.status == PipelineRun.Status.FAILED
    assert run.error.startswith("Publishing failed: FileNotFoundError:"), run.error
    assert "gone/00001.metadata.json" in run.error
    assert run.snapshots == {} and run.watermarks_to == {}
    assert selectors.published_run() == previous
    assert set(Watermark.objects.values_list("run", flat=True)) == {previous.pk}


# --- Orchestration ----------------------------------------------------------------------------


def test_a_glue_run_goes_queued_running_succeeded_through_the_tasks(glue, lake, stub, monkeypatch):
    # Something published locally, so the run publishes non-empty snapshots.
    schema = pa.schema([pa.field("rental_id", pa.int64())])
    table = ensure_table("marts.fact_sales", schema)
    replace_rows(table, pa.Table.from_pylist([{"rental_id": 1}], schema=schema), AlwaysTrue())
    scheduled = []
    monkeypatch.setattr(
        tasks.pipeline_run_poll_task,
        "apply_async",
        lambda args, countdown: scheduled.append((args, countdown)),
    )
    run = pipeline_run_create()
    assert run.status == PipelineRun.Status.QUEUED and get_engine(run.engine).name == "glue"
    stub.add_response("start_workflow_run", {"RunId": "wr_0123"})

    tasks.pipeline_run_task(run.pk)

    run.refresh_from_db()
    assert run.status == PipelineRun.Status.RUNNING and run.glue_run_id == "wr_0123"
    assert scheduled == [((run.pk, 0), tasks.POLL_FIRST_SECONDS)]
    expect_poll(stub, run, workflow_run(run, "RUNNING", extract="RUNNING"))
    done = workflow_succeeded(run)
    expect_ended_poll(stub, run, done)

    tasks.pipeline_run_poll_task(run.pk, 0)
    assert scheduled[-1] == ((run.pk, 1), tasks.POLL_FIRST_SECONDS)
    tasks.pipeline_run_poll_task(run.pk, 1)

    run.refresh_from_db()
    assert run.status == PipelineRun.Status.SUCCEEDED, run.error
    assert len(scheduled) == 2  # no poll after the end
    assert selectors.published_run() == run and "marts.fact_sales" in run.snapshots
    assert list(run.events.order_by("at", "pk").values_list("action", flat=True)) == [
        PipelineRunEvent.Action.TRIGGERED,
        PipelineRunEvent.Action.STARTED,
        PipelineRunEvent.Action.SUCCEEDED,
    ]


def test_lake_run_starts_the_workflow_and_follows_it_to_its_end(glue, lake, stub, monkeypatch):
    schema = pa.schema([pa.field("rental_id", pa.int64())])
    table = ensure_table("marts.fact_sales", schema)
    replace_rows(table, pa.Table.from_pylist([{"rental_id": 1}], schema=schema), AlwaysTrue())
    waits: list[float] = []
    monkeypatch.setattr(lake_command.time, "sleep", waits.append)
    stub.add_response("start_workflow_run", {"RunId": "wr_cli01"})
    run = PipelineRun(pk=1, glue_run_id="wr_cli01", full=True)
    expect_poll(stub, run, workflow_run(run, "RUNNING", extract="RUNNING"))
    expect_poll(stub, run, workflow_run(run, "RUNNING", extract="SUCCEEDED", marts="RUNNING",
                                        properties=JOB_PROPERTIES))  # fmt: skip
    expect_ended_poll(stub, run, workflow_succeeded(run))
    out = StringIO()

    call_command("lake", "run", stdout=out)

    output = out.getvalue()
    run = PipelineRun.objects.get()
    assert (run.engine, run.status, run.glue_run_id) == ("glue", "succeeded", "wr_cli01")
    assert selectors.published_run() == run
    assert "Glue workflow sakila-lake, run wr_cli01" in output
    lines = [line.split() for line in output.splitlines() if line.startswith("  ")]
    assert lines == [
        ["extract", "running"], ["marts", "pending"], ["crawl", "pending"],
        ["extract", "succeeded"], ["marts", "running"],
        ["marts", "succeeded"], ["crawl", "succeeded"],
    ]  # fmt: skip
    assert "extract rental" in output and f"Run {run.pk} succeeded" in output
    assert waits == [5, 10, 20]  # no local steps ran: the polls waited in between


def test_lake_run_on_glue_fails_with_the_workflows_error(glue, stub, monkeypatch):
    monkeypatch.setattr(lake_command.time, "sleep", lambda seconds: None)
    stub.add_response("start_workflow_run", {"RunId": "wr_cli02"})
    run = PipelineRun(pk=1, glue_run_id="wr_cli02", full=True)
    expect_poll(stub, run, workflow_run(run, "COMPLETED", extract="FAILED", job_error="boom"))

    with pytest.raises(CommandError) as failure:
        call_command("lake", "run", stdout=StringIO())

    assert "extract failed on Glue (FAILED): boom" in str(failure.value)
    with pytest.raises(CommandError) as refusal:
        call_command("lake", "run", "--as-of", "2006-02-14")
    assert str(refusal.value).startswith("--as-of does not run on LAKE_ENGINE=glue")


def test_the_reaper_fails_a_glue_run_only_when_its_polls_stopped(
    running, settings, django_capture_on_commit_callbacks
):
    settings.LAKE_RUN_STALE_SECONDS = 600
    assert pipeline_runs_reap() == 0  # no local process to look for: the heartbeat decides

    stale = timezone.now() - timedelta(seconds=601)
    PipelineRun.objects.filter(pk=running.pk).update(heartbeat_at=stale)
    with Stubber(aws_client("glue")) as stub:  # the workflow run is stopped on AWS too
        stub.add_response(
            "stop_workflow_run", {}, {"Name": workflow_name(), "RunId": running.glue_run_id}
        )
        with django_capture_on_commit_callbacks(execute=True):
            assert pipeline_runs_reap() == 1
        stub.assert_no_pending_responses()

    running.refresh_from_db()
    assert running.status == PipelineRun.Status.FAILED
    assert running.error == ERROR_NOT_POLLED.format(engine="AWS Glue", seconds=600, step="a step")


# --- Resume from the failed node ------------------------------------------------------------


@pytest.fixture
def polls(monkeypatch) -> list[tuple[tuple, int]]:
    """The polls scheduled, as (args, countdown)."""
    scheduled = []
    monkeypatch.setattr(
        tasks.pipeline_run_poll_task,
        "apply_async",
        lambda args, countdown: scheduled.append((args, countdown)),
    )
    return scheduled


@contextmanager
def stub_paused(stub: Stubber) -> Iterator[None]:
    """The engine's client talks to moto meanwhile."""
    stub.deactivate()
    try:
        yield
    finally:
        stub.activate()


def failed_at_marts(run: PipelineRun, stub: Stubber) -> PipelineRun:
    """Poll ``run`` to its end: the extract job succeeded, the marts job failed."""
    error = "An error occurred while calling o98.save. Table fact_sales: commit conflict"
    ended = workflow_run(
        run, "COMPLETED", extract="SUCCEEDED", marts="FAILED", job_error=error,
        properties=JOB_PROPERTIES,
    )  # fmt: skip
    expect_poll(stub, run, ended)
    failed = GlueEngine().refresh(run)
    assert failed.status == PipelineRun.Status.FAILED
    assert failed.error == f"marts failed on Glue (FAILED): {error}"
    return failed


def expect_resume(
    stub: Stubber,
    run: PipelineRun,
    node_ids: list[str],
    new_run_id: str,
    *,
    kept: dict | None = None,
    put_back: dict | None = None,
) -> None:
    """The resume, then the new workflow run's properties read back (``kept``: what
    Glue kept of them; by default all the app's of ``workflow_run``) and, if some
    are missing, ``put_back``."""
    params = {"Name": workflow_name(), "RunId": run.glue_run_id, "NodeIds": node_ids}
    stub.add_response("resume_workflow_run", {"RunId": new_run_id, "NodeIds": node_ids}, params)
    new = {"Name": workflow_name(), "RunId": new_run_id}
    if kept is None:
        kept = {"run_id": str(run.pk), "full": "true" if run.full else "false"}
    stub.add_response("get_workflow_run_properties", {"RunProperties": kept}, new)
    if put_back:
        stub.add_response("put_workflow_run_properties", {}, {**new, "RunProperties": put_back})


def resumed_workflow_run(resumed: PipelineRun, failed: PipelineRun, status: str, **nodes) -> dict:
    """A get_workflow_run response of the workflow run a resume made: a new run id,
    the run it resumed, the same run properties; the extract node did not run in it."""
    response = workflow_run(resumed, status, properties=JOB_PROPERTIES, **nodes)
    response["Run"]["PreviousRunId"] = failed.glue_run_id
    response["Run"]["WorkflowRunProperties"]["run_id"] = str(failed.pk)
    return response


def test_resume_reruns_the_failed_job_and_the_resumed_run_publishes(
    glue, stub, lake, polls, manager, django_capture_on_commit_callbacks
):
    # What the marts job will have written when the resumed run completes.
    schema = pa.schema([pa.field("rental_id", pa.int64())])
    table = ensure_table("marts.fact_sales", schema)
    replace_rows(table, pa.Table.from_pylist([{"rental_id": 1}], schema=schema), AlwaysTrue())
    publish_previous_run()  # the failed run was an incremental one
    run = pipeline_run_create()
    with stub_paused(stub):
        GlueEngine().start(run)  # on moto
    failed = failed_at_marts(run, stub)
    watermarks_from = failed.watermarks_from
    assert watermarks_from == {"payment": "2005-08-23 22:42:00", "rental": "2005-08-23 22:50:00"}
    assert services.pipeline_run_resume_step(failed) == "marts"
    # The ended workflow run is read with its graph, then resumed from the failed node.
    expect_poll(stub, failed, workflow_run(failed, "COMPLETED", extract="SUCCEEDED",
                                           marts="FAILED", properties=JOB_PROPERTIES))  # fmt: skip
    # Glue kept only the app's properties: the extract job's are put back (the
    # resumed run does not run it again, and publishing needs its watermarks).
    app_properties = {"run_id": str(failed.pk), "full": "false"}
    expect_resume(
        stub, failed, ["wnode_marts"], "wr_resumed01", kept=app_properties, put_back=JOB_PROPERTIES
    )

    with django_capture_on_commit_callbacks(execute=True):
        resumed = services.pipeline_run_resume(run=failed, user=manager)

    assert resumed.status == PipelineRun.Status.RUNNING, resumed.error
    assert (resumed.engine, resumed.glue_run_id, resumed.retry_of) == (
        "glue",
        "wr_resumed01",
        failed,
    )
    assert (resumed.full, resumed.watermarks_from) == (failed.full, watermarks_from)
    assert resumed.requested_by == manager and resumed.started_at is not None
    assert polls == [((resumed.pk, 0), tasks.POLL_FIRST_SECONDS)]
    # What succeeded is copied (the timeline reads right); what failed waits to run again.
    assert steps(resumed) == [
        ("extract", Status.SUCCEEDED, 250),
        ("extract payment", Status.SUCCEEDED, 130),
        ("extract rental", Status.SUCCEEDED, 120),
        ("stage payment", Status.SUCCEEDED, 30),
        ("stage rental", Status.SUCCEEDED, 20),
        ("marts", Status.PENDING, 0),
        ("crawl", Status.PENDING, 0),
    ]
    extract = resumed.steps.get(name="extract")
    assert extract.log.startswith(f"Succeeded in run {failed.pk}: not run again. Glue job")
    assert extract.started_at == datetime(2026, 3, 2, 10, 0)
    assert resumed.steps.get(name="marts").error == ""
    event = failed.events.get(action=PipelineRunEvent.Action.RESUMED)
    assert (event.user, event.message) == (manager, f"Resumed as run {resumed.pk} from marts.")
    assert list(resumed.events.order_by("pk").values_list("action", "message")) == [
        (
            PipelineRunEvent.Action.TRIGGERED,
            f"Incremental run triggered from the control panel, "
            f"resuming run {failed.pk} from marts.",
        ),
        (
            PipelineRunEvent.Action.STARTED,
            f"Glue workflow sakila-lake, run wr_resumed01: resumes run {failed.glue_run_id} "
            f"from marts.",
        ),
    ]

    # Polled like any Glue run: the extract node does not run again in the resumed run.
    expect_poll(stub, resumed, resumed_workflow_run(resumed, failed, "RUNNING", marts="RUNNING"))
    done = resumed_workflow_run(
        resumed, failed, "COMPLETED", marts="SUCCEEDED", crawl="SUCCEEDED",
        statistics={"TotalActions": 2},
    )  # fmt: skip
    expect_ended_poll(stub, resumed, done)
    tasks.pipeline_run_poll_task(resumed.pk, 0)
    assert steps(PipelineRun.objects.get(pk=resumed.pk))[0] == ("extract", Status.SUCCEEDED, 250)
    tasks.pipeline_run_poll_task(resumed.pk, 1)

    resumed.refresh_from_db()
    assert resumed.status == PipelineRun.Status.SUCCEEDED, resumed.error
    assert selectors.published_run() == resumed and "marts.fact_sales" in resumed.snapshots
    assert dict(Watermark.objects.values_list("table", "value")) == PUBLISHED_WATERMARKS
    assert [(name, status) for name, status, _ in steps(resumed)] == [
        ("extract", Status.SUCCEEDED),
        ("extract payment", Status.SUCCEEDED),
        ("extract rental", Status.SUCCEEDED),
        ("stage payment", Status.SUCCEEDED),
        ("stage rental", Status.SUCCEEDED),
        ("marts", Status.SUCCEEDED),
        ("crawl", Status.SUCCEEDED),
    ]
    assert len(polls) == 2  # no poll after it published
    # Published since: the failed run can no longer be resumed.
    assert services.pipeline_run_resume_step(failed) is None


def test_resume_starts_from_the_failed_timed_out_or_stopped_nodes(running):
    engine = GlueEngine()
    cases = [
        (dict(extract="SUCCEEDED", marts="SUCCEEDED", crawl="FAILED"), ("crawl",)),
        (dict(extract="TIMEOUT"), ("extract",)),
        (dict(extract="SUCCEEDED", marts="STOPPED"), ("marts",)),  # a job run stopped alone
    ]
    for nodes, expected in cases:
        response = workflow_run(running, "COMPLETED", **nodes)
        with Stubber(aws_client("glue")) as stub:
            expect_poll(stub, running, response)
            point = engine.resume_point(running)
        assert point.steps == expected
        assert point.node_ids == tuple(f"wnode_{step}" for step in expected)


def test_a_cancelled_or_stopped_glue_run_is_not_offered_resume(running, stub, polls, manager):
    # A cancel stops the workflow run, and Glue resumes only COMPLETED workflow runs.
    services.pipeline_run_cancel(run=running, user=manager)  # moto accepts the stop
    expect_poll(stub, running, workflow_run(running, "STOPPED", extract="STOPPED"))
    cancelled = GlueEngine().refresh(running)
    assert cancelled.status == PipelineRun.Status.CANCELLED
    assert services.pipeline_run_resume_step(cancelled) is None

    # Refused before Glue is asked anything (the stub has no response queued).
    with pytest.raises(services.RunStateError) as refusal:
        services.pipeline_run_resume(run=cancelled, user=manager)
    assert str(refusal.value) == (
        f"Run {cancelled.pk} is cancelled: only a failed run can be resumed (a cancelled one "
        "is stopped for good): retry it instead."
    )

    # Stopped outside the app: failed, but its workflow run is STOPPED too.
    PipelineRun.objects.filter(pk=cancelled.pk).update(
        status=PipelineRun.Status.FAILED, error=ERROR_STOPPED
    )
    cancelled.refresh_from_db()
    assert services.pipeline_run_resume_step(cancelled) is None
    expect_poll(stub, cancelled, workflow_run(cancelled, "STOPPED", extract="STOPPED"))
    with pytest.raises(CannotResume) as refusal:
        GlueEngine().resume_point(cancelled)
    assert str(refusal.value) == (
        f"The Glue workflow run {cancelled.glue_run_id} of run {cancelled.pk} ended STOPPED: "
        "Glue resumes only a completed workflow run (a stopped one cannot go on). "
        "Retry it instead."
    )
    assert PipelineRun.objects.count() == 1


def test_glue_refusing_the_resume_fails_the_new_run_with_its_message(running, stub, polls):
    failed = failed_at_marts(running, stub)
    expect_poll(stub, failed, workflow_run(failed, "COMPLETED", extract="SUCCEEDED",
                                           marts="FAILED"))  # fmt: skip
    message = "Workflow sakila-lake has reached the maximum number of concurrent runs"
    stub.add_client_error(
        "resume_workflow_run", "ConcurrentRunsExceededException", message, http_status_code=400
    )

    resumed = services.pipeline_run_resume(run=failed)

    assert resumed.status == PipelineRun.Status.FAILED and resumed.retry_of == failed
    assert resumed.error == (
        f"Glue: ConcurrentRunsExceededException: {message} "
        f"(resuming run {failed.glue_run_id} of workflow sakila-lake from marts)"
    )
    assert resumed.glue_run_id == "" and polls == []
    assert resumed.events.filter(action=PipelineRunEvent.Action.FAILED).count() == 1
    assert selectors.active_run() is None  # nothing left in the way of the next run


def test_resume_refusals_say_why(running, stub, manager):
    def refused(run: PipelineRun) -> str:
        with pytest.raises(services.RunStateError) as refusal:
            services.pipeline_run_resume(run=run, user=manager)
        return str(refusal.value)

    assert refused(running) == (
        f"Run {running.pk} is running: only a failed run can be resumed (a cancelled one is "
        "stopped for good): retry it instead."
    )
    local = PipelineRun.objects.create(engine="local", status=PipelineRun.Status.FAILED)
    assert refused(local) == (
        f"Run {local.pk} ran on the local engine, which cannot resume a run: retry it instead."
    )
    local.delete()

    # Failed here (reaped), still running on Glue.
    PipelineRun.objects.filter(pk=running.pk).update(status=PipelineRun.Status.FAILED)
    running.refresh_from_db()
    never = PipelineRun.objects.create(engine="glue", status=PipelineRun.Status.FAILED)
    assert refused(never) == (
        f"Run {never.pk} never started a Glue workflow run: there is nothing to resume. "
        "Retry it instead."
    )
    never.delete()
    expect_poll(stub, running, workflow_run(running, "RUNNING", extract="RUNNING"))
    assert refused(running) == (
        f"The Glue workflow run {running.glue_run_id} of run {running.pk} is still RUNNING: "
        "resume it once it has ended."
    )
    # Every job and crawler succeeded (the run failed publishing).
    expect_poll(
        stub,
        running,
        workflow_run(running, "COMPLETED", extract="SUCCEEDED", marts="SUCCEEDED",
                     crawl="SUCCEEDED"),
    )  # fmt: skip
    assert refused(running) == (
        f"No job or crawler failed in the Glue workflow run {running.glue_run_id} of run "
        f"{running.pk}: there is nothing to resume from. Retry it instead."
    )
    # AWS's own refusal to be read.
    stub.add_client_error(
        "get_workflow_run", "AccessDeniedException", "not authorized", http_status_code=400
    )
    assert refused(running) == (
        f"Glue: AccessDeniedException: not authorized "
        f"(reading run {running.glue_run_id} of workflow sakila-lake)"
    )
    assert PipelineRun.objects.count() == 1  # no run was made by any of them


def test_no_resume_once_another_run_has_published(running, stub, manager):
    failed = failed_at_marts(running, stub)
    later = PipelineRun.objects.create(
        engine="glue", status=PipelineRun.Status.SUCCEEDED, snapshots={"marts.fact_sales": 1}
    )

    # Refused before Glue is asked anything (the stub has no response queued).
    with pytest.raises(services.RunStateError) as refusal:
        services.pipeline_run_resume(run=failed, user=manager)

    assert str(refusal.value) == (
        f"Run {later.pk} has published since run {failed.pk} was created: resuming run "
        f"{failed.pk} would publish its older watermarks over newer ones. Re-run it instead "
        "(Retry)."
    )
    assert services.pipeline_run_resume_step(failed) is None
    assert PipelineRun.objects.count() == 2


def test_no_resume_while_another_run_is_active(running, stub, manager):
    failed = failed_at_marts(running, stub)
    active = pipeline_run_create()

    # Refused before Glue is asked anything (the stub has no response queued).
    with pytest.raises(services.AlreadyRunning) as refusal:
        services.pipeline_run_resume(run=failed, user=manager)

    assert refusal.value.run == active
    assert PipelineRun.objects.count() == 2
    assert not failed.events.filter(action=PipelineRunEvent.Action.RESUMED).exists()
