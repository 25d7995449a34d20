"""docs/aws.md, "Running on AWS", walked as a new user would, on moto's server.

Only its environment variables are set (the settings module is
read again with them); then `lake deploy --dry-run`, `lake deploy` twice, a
run started from the control panel and followed to its end, a report on
Athena, `lake destroy --dry-run`, `lake destroy --no-input` and a second
destroy. moto never runs a job or a crawler: when the app waits between two
polls, the workflow run ends here the way AWS ends it (the jobs' tables and
run properties, the graph's nodes, the statistics), which is the one
moto gap filled outside ``moto_gaps``.
"""

import os
import runpy
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO
from itertools import pairwise
from pathlib import Path

import pyarrow as pa
import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from moto.glue.models import glue_backends
from pyiceberg.expressions import AlwaysTrue

from lake import selectors, tasks
from lake.aws import names
from lake.aws.clients import aws_client
from lake.catalog import catalog_cache_clear, ensure_table
from lake.core.checks import results_to_json
from lake.core.marts import MARTS
from lake.core.table_writes import replace_rows
from lake.glue_jobs.workflow import counts_json, timestamps_json
from lake.models import PipelineRun, PipelineStep, Watermark
from lake.pipeline.schemas import STAGED_MODELS, table_name
from sakila_site.celery import app
from tests.lake.query.test_athena import queue_results

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_cache")]

ACCOUNT = "123456789012"
BUCKET = "sakila-walkthrough"
SETTINGS_FILE = Path(__file__).resolve().parents[3] / "sakila_site" / "settings.py"
# What docs/aws.md asks for, and nothing else.
AWS_SETTINGS = ("AWS_", "GLUE_", "ATHENA_", "LAKE_ENGINE", "LAKE_CATALOG", "LAKE_WAREHOUSE",
                "QUERY_ENGINE")  # fmt: skip
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
WATERMARK = datetime(2026, 3, 2, 9, 59, 58)
GLUE_TRUST = (Path(__file__).resolve().parents[3] / "docs" / "aws-iam-glue-trust.json").read_text()


@pytest.fixture
def readme_settings(aws, settings, monkeypatch, moto_gaps):
    """The settings module read again with only docs/aws.md's variables set, and
    what step 1 prepares: the role, the secret, the subnet and security group."""
    aws_client("iam").create_role(RoleName="sakila-lake-glue", AssumeRolePolicyDocument=GLUE_TRUST)
    aws_client("secretsmanager").create_secret(
        Name="sakila/rds-login", SecretString='{"username": "etl", "password": "x"}'
    )
    ec2 = aws_client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")
    group = ec2.create_security_group(GroupName="glue", Description="glue", VpcId=vpc)
    environment = {
        "LAKE_ENGINE": "glue",
        "LAKE_CATALOG": "glue",
        "QUERY_ENGINE": "athena",
        "AWS_REGION": "us-east-1",
        "LAKE_WAREHOUSE": f"s3://{BUCKET}/lake",
        "GLUE_ROLE_ARN": f"arn:aws:iam::{ACCOUNT}:role/sakila-lake-glue",
        "GLUE_JDBC_URL": "jdbc:mysql://sakila.abc.us-east-1.rds.amazonaws.com:3306/sakila",
        "GLUE_JDBC_SECRET_ID": "sakila/rds-login",
        "GLUE_SUBNET_ID": subnet["Subnet"]["SubnetId"],
        "GLUE_SECURITY_GROUP_IDS": group["GroupId"],
    }
    for name in list(os.environ):
        if name.startswith(("GLUE_", "ATHENA_")) or name in environment:
            monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    module = runpy.run_path(str(SETTINGS_FILE), run_name="readme_settings")
    for name, value in module.items():
        if name.isupper() and name.startswith(AWS_SETTINGS):
            setattr(settings, name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL")  # pyiceberg reaches moto through the settings
    catalog_cache_clear()
    yield settings
    catalog_cache_clear()


def lake(*args: str) -> str:
    out = StringIO()
    call_command("lake", *args, stdout=out)
    return out.getvalue()


# --- The end of a workflow run, as AWS makes it ----------------------------------------------


def jobs_write_their_tables() -> None:
    """What the marts job commits in the Glue catalog: a snapshot of each mart a
    report reads (the rows do not matter: Athena's answers are queued)."""
    for mart in MARTS:
        if mart.name in ("fact_sales", "dim_date"):
            table = ensure_table(mart.identifier, mart.schema)
            first = mart.schema.names[0]
            rows = pa.Table.from_pylist([{first: 20260302}], schema=mart.schema)
            replace_rows(table, rows, AlwaysTrue())


def job_node(job: str, state: str, minutes: int) -> dict:
    started = T0 + timedelta(minutes=minutes)
    job_run = {
        "Id": f"jr_{job}",
        "Attempt": 0,
        "JobName": names.job_name(job),
        "StartedOn": started,
        "CompletedOn": started + timedelta(minutes=3),
        "JobRunState": state,
        "ExecutionTime": 180,
    }
    return {
        "Type": "JOB",
        "Name": names.job_name(job),
        "UniqueId": f"wnode_{job}",
        "JobDetails": {"JobRuns": [job_run]},
    }


def crawler_node(state: str | None) -> dict:
    crawls = []
    if state is not None:
        crawls.append(
            {
                "State": state,
                "StartedOn": T0 + timedelta(minutes=8),
                "CompletedOn": T0 + timedelta(minutes=10),
            }
        )
    return {
        "Type": "CRAWLER",
        "Name": names.crawler_name(),
        "UniqueId": "wnode_crawl",
        "CrawlerDetails": {"Crawls": crawls},
    }


def trigger_nodes() -> list[dict]:
    glue = aws_client("glue")
    prefix = names.workflow_name()
    nodes = []
    for name in (f"{prefix}-start", f"{prefix}-after-extract", f"{prefix}-after-marts"):
        trigger = glue.get_trigger(Name=name)["Trigger"]
        nodes.append(
            {
                "Type": "TRIGGER",
                "Name": name,
                "UniqueId": f"wnode_{name}",
                "TriggerDetails": {"Trigger": trigger},
            }
        )
    return nodes


def aws_ends_the_workflow_run(*, crawled: bool) -> None:
    """The running workflow run ends COMPLETED: the extract and marts jobs
    succeeded (their tables and run properties written), and the crawler ran
    (``crawled``) or never started."""
    glue = aws_client("glue")
    workflow = glue_backends[ACCOUNT]["us-east-1"].workflows[names.workflow_name()]
    running = [run for run in workflow.runs.values() if run.status == "RUNNING"]
    if not running:
        return
    (fake,) = running
    jobs_write_their_tables()
    staged = [table_name(model) for model in STAGED_MODELS]
    glue.put_workflow_run_properties(
        Name=names.workflow_name(),
        RunId=fake.run_id,
        RunProperties={
            "watermarks_to": timestamps_json(dict.fromkeys(staged, WATERMARK)),
            "extract_rows": counts_json(dict.fromkeys(staged, 10)),
            "changed_rows": counts_json(dict.fromkeys(staged, 2)),
            "mart_rows": counts_json({"fact_sales": 1, "dim_date": 1}),
            "check_results": results_to_json([]),  # the marts job ran its checks: none failed
        },
    )
    triggers = trigger_nodes()
    nodes = [
        triggers[0], job_node("extract", "SUCCEEDED", 0),
        triggers[1], job_node("marts", "SUCCEEDED", 4),
        triggers[2], crawler_node("SUCCEEDED" if crawled else None),
    ]  # fmt: skip
    ids = [node["UniqueId"] for node in nodes]
    fake.sakila_graph = {
        "Nodes": nodes,
        "Edges": [{"SourceId": a, "DestinationId": b} for a, b in pairwise(ids)],
    }
    done = 3 if crawled else 2
    fake.sakila_statistics = {"TotalActions": done, "SucceededActions": done, "FailedActions": 0,
                              "StoppedActions": 0, "TimeoutActions": 0, "ErroredActions": 0,
                              "RunningActions": 0, "WaitingActions": 0}  # fmt: skip
    fake.status, fake.completed_on = "COMPLETED", T0 + timedelta(minutes=10)


@pytest.fixture
def workers(monkeypatch):
    """Celery eager, as a worker would run the tasks; while the app waits to poll,
    AWS ends the running workflow run as ``ending`` says."""
    ending = {"crawled": True}

    def wait(seconds: float) -> None:
        aws_ends_the_workflow_run(**ending)

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    monkeypatch.setattr(tasks.time, "sleep", wait)
    return ending


def trigger_from_the_control_panel(manager, capture) -> PipelineRun:
    panel = Client()
    panel.force_login(manager)
    with capture(execute=True):  # the task is queued once the request's transaction commits
        response = panel.post(reverse("lake:trigger"), {"mode": "incremental"})
    assert response.status_code == 302
    return PipelineRun.objects.order_by("-pk").first()


# --- The walk ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_readme_walkthrough_on_moto(
    readme_settings, workers, manager, django_capture_on_commit_callbacks
):
    # 3. The plan, changing nothing.
    plan = lake("deploy", "--dry-run")
    assert "Dry run: nothing was changed." in plan
    assert "  create     Glue workflow     sakila-lake" in plan
    assert "wait for them" in plan  # the optimizers, until the first run made the tables
    assert aws_client("s3").list_buckets()["Buckets"] == []

    # 4. Deploy, then deploy again: nothing changes.
    first = lake("deploy")
    assert "Deployed:" in first
    again = lake("deploy")
    assert "Nothing to change." in again and "to update" not in again

    # 5. A run from the control panel, followed to its end by the (eager) worker.
    run = trigger_from_the_control_panel(manager, django_capture_on_commit_callbacks)
    run.refresh_from_db()
    assert (run.engine, run.status) == ("glue", PipelineRun.Status.SUCCEEDED), run.error
    assert run.glue_run_id.startswith("wr_")
    assert selectors.published_run() == run
    assert {"marts.fact_sales", "marts.dim_date"} <= set(run.snapshots)
    steps = dict(run.steps.values_list("name", "status"))
    assert {steps[name] for name in ("extract", "marts", "crawl")} == {
        PipelineStep.Status.SUCCEEDED
    }
    assert steps["extract rental"] == steps["stage staff"] == PipelineStep.Status.SUCCEEDED
    assert Watermark.objects.get(table="rental").value == WATERMARK
    # The workflow run holds what the app sent and what the jobs added.
    properties = aws_client("glue").get_workflow_run_properties(
        Name="sakila-lake", RunId=run.glue_run_id
    )["RunProperties"]
    assert properties["run_id"] == str(run.pk) and "watermarks_to" in properties

    # An incomplete workflow run (the crawler never ran) is refused, nothing published.
    workers["crawled"] = False
    incomplete = trigger_from_the_control_panel(manager, django_capture_on_commit_callbacks)
    incomplete.refresh_from_db()
    assert incomplete.status == PipelineRun.Status.FAILED
    assert incomplete.error == "The Glue workflow run completed, but crawl did not run."
    assert selectors.published_run() == run
    assert set(Watermark.objects.values_list("run", flat=True)) == {run.pk}

    # The first run made the tables: deploy turns their optimizers on.
    optimizers = lake("deploy")
    assert "Deployed: 6 created." in optimizers  # fact_sales and dim_date, 3 each

    # A report on Athena, at the published run's snapshots.
    queue_results(
        readme_settings.AWS_ENDPOINT_URL,
        (
            [("month", "varchar"), ("rentals", "bigint"), ("revenue", "decimal", 38, 2)],
            [("2026-03", 1, Decimal("2.99"))],
        ),
    )
    out, err = StringIO(), StringIO()
    call_command("report", "sales_by_month", stdout=out, stderr=err)
    assert out.getvalue().splitlines() == ["month,rentals,revenue", "2026-03,1,2.99"]
    assert f"as of run {run.pk}" in err.getvalue() and "Athena scanned" in err.getvalue()
    (execution_id,) = aws_client("athena").list_query_executions(WorkGroup="sakila-lake")[
        "QueryExecutionIds"
    ]
    execution = aws_client("athena").get_query_execution(QueryExecutionId=execution_id)
    query = execution["QueryExecution"]
    assert query["QueryExecutionContext"]["Database"] == "sakila_marts"
    assert f"FOR VERSION AS OF {run.snapshots['marts.fact_sales']}" in query["Query"]

    # 6. Destroy: the plan, then for good; the lake's data stays; again: nothing left.
    dry = lake("destroy", "--dry-run")
    assert "Dry run: nothing was changed." in dry
    assert "  delete     Glue optimizer    sakila_marts.fact_sales retention" in dry
    gone = lake("destroy", "--no-input")
    assert "Destroyed:" in gone
    glue = aws_client("glue")
    assert glue.list_jobs()["JobNames"] == [] and glue.list_crawlers()["CrawlerNames"] == []
    assert glue.get_table(DatabaseName="sakila_marts", Name="fact_sales")  # the data stays
    last = lake("destroy", "--no-input")
    assert "Nothing to change." in last and "to delete" not in last
