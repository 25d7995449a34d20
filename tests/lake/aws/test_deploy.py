"""``lake deploy`` / ``lake destroy`` against moto's server.

moto lacks a few update/delete calls deploy makes: ``moto_gaps`` fills them
(see that module), so every call still goes over HTTP to the server.
"""

import hashlib
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from moto.glue.models import glue_backends

from lake.aws import assets
from lake.aws.clients import aws_client
from lake.aws.deploy.glue import GlueJob
from lake.aws.deploy.optimizers import optimized_tables
from lake.aws.deploy.plan import (
    ABSENT,
    CREATE,
    DELETE,
    KEEP,
    UNCHANGED,
    UPDATE,
    field_changes,
    plan_apply,
)
from lake.aws.deploy.stack import deploy_plan, destroy_plan
from tests.lake.aws.conftest import GLUE_TRUST, RESULTS_BUCKET, WAREHOUSE_BUCKET, mutating

ASSETS = f"s3://{WAREHOUSE_BUCKET}/lake/_glue"
JOBS = ("sakila-lake-extract", "sakila-lake-marts")
TRIGGERS = ("sakila-lake-start", "sakila-lake-after-extract", "sakila-lake-after-marts")
DATABASES = ("sakila_raw", "sakila_staging", "sakila_marts")
# Buckets 2, databases 3, connection, jobs 2, crawler, workflow, triggers 3, workgroup.
RESOURCES = 17 + len(assets.job_assets())


def lake(*args: str) -> str:
    out = StringIO()
    call_command("lake", *args, stdout=out)
    return out.getvalue()


def kinds(plan) -> dict[str, str]:
    """{"Glue job sakila-lake-extract": "unchanged", ...}"""
    return {str(action.resource): action.kind for action in plan.actions}


def deployed() -> None:
    plan_apply(deploy_plan())


def glue_names() -> dict[str, list[str]]:
    glue = aws_client("glue")
    return {
        "jobs": sorted(glue.list_jobs()["JobNames"]),
        "crawlers": sorted(glue.list_crawlers()["CrawlerNames"]),
        "triggers": sorted(glue.list_triggers()["TriggerNames"]),
        "workflows": sorted(glue.list_workflows()["Workflows"]),
        "connections": sorted(c["Name"] for c in glue.get_connections()["ConnectionList"]),
        "databases": sorted(d["Name"] for d in glue.get_databases()["DatabaseList"]),
    }


def s3_keys(bucket: str) -> list[str]:
    answer = aws_client("s3").list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in answer.get("Contents", []))


def test_deploy_creates_every_resource_with_the_expected_settings(deploy_settings):
    output = lake("deploy")

    assert f"Plan: {RESOURCES} to create." in output
    assert f"Deployed: {RESOURCES} created." in output
    s3, glue, athena = aws_client("s3"), aws_client("glue"), aws_client("athena")
    # Buckets, created private.
    for bucket in (WAREHOUSE_BUCKET, RESULTS_BUCKET):
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        assert all(block.values())
    # Every asset uploaded with its content.
    for key, body in assets.job_assets().items():
        uploaded = s3.get_object(Bucket=WAREHOUSE_BUCKET, Key=f"lake/_glue/{key}")
        assert uploaded["Body"].read() == body
        assert uploaded["Metadata"] == {"sha256": hashlib.sha256(body).hexdigest()}
    # The three databases, one prefix per zone.
    for zone in ("raw", "staging", "marts"):
        database = glue.get_database(Name=f"sakila_{zone}")["Database"]
        assert database["LocationUri"] == f"s3://{WAREHOUSE_BUCKET}/lake/{zone}"
    # The JDBC connection: the login is the secret; the zone comes from the subnet.
    connection = glue.get_connection(Name="sakila-lake-rds")["Connection"]
    # moto's GetConnection leaves ConnectionType out: read what moto was sent.
    moto_connection = glue_backends["123456789012"]["us-east-1"].connections["sakila-lake-rds"]
    assert moto_connection.connection_input["ConnectionType"] == "JDBC"
    assert connection["ConnectionProperties"] == {
        "JDBC_CONNECTION_URL": deploy_settings.GLUE_JDBC_URL,
        "SECRET_ID": "sakila/rds-login",
    }
    assert connection["PhysicalConnectionRequirements"] == {
        "SubnetId": deploy_settings.GLUE_SUBNET_ID,
        "SecurityGroupIdList": deploy_settings.GLUE_SECURITY_GROUP_IDS,
        "AvailabilityZone": "us-east-1b",
    }
    # The jobs.
    for job in ("extract", "marts"):
        definition = glue.get_job(JobName=f"sakila-lake-{job}")["Job"]
        assert definition["Command"] == {
            "Name": "glueetl",
            "ScriptLocation": f"{ASSETS}/{assets.job_script_key(job)}",
            "PythonVersion": "3",
        }
        assert definition["Role"] == deploy_settings.GLUE_ROLE_ARN
        assert (definition["GlueVersion"], definition["WorkerType"]) == ("5.0", "G.1X")
        assert (definition["NumberOfWorkers"], definition["Timeout"]) == (2, 120)
        assert definition["ExecutionProperty"] == {"MaxConcurrentRuns": 1}
        arguments = definition["DefaultArguments"]
        assert arguments.items() >= assets.job_arguments(job).items()
        assert arguments["--datalake-formats"] == "iceberg"
        assert arguments["--TempDir"] == f"{ASSETS}/tmp/"
        assert arguments["--job-bookmark-option"] == "job-bookmark-disable"
        # Glue 5.0 logs in real time: the continuous-logging flag is for 4.0 and earlier.
        assert "--enable-continuous-cloudwatch-log" not in arguments
        job_arn = f"arn:aws:glue:us-east-1:123456789012:job/sakila-lake-{job}"
        assert glue.get_tags(ResourceArn=job_arn)["Tags"] == {"managed-by": "sakila-lake deploy"}
    extract, marts = (glue.get_job(JobName=name)["Job"] for name in JOBS)
    assert extract["Connections"] == {"Connections": ["sakila-lake-rds"]}
    assert "Connections" not in marts  # only extract reaches the database
    # The crawler over the raw zone.
    crawler = glue.get_crawler(Name="sakila-lake-raw")["Crawler"]
    assert crawler["DatabaseName"] == "sakila_raw"
    assert crawler["Targets"]["S3Targets"][0]["Path"] == f"s3://{WAREHOUSE_BUCKET}/lake/raw/"
    # New run_id= folders only, with the schema change policy Glue requires for it.
    assert crawler["RecrawlPolicy"] == {"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"}
    assert crawler["SchemaChangePolicy"] == {"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"}
    # s3://bucket (1) /lake (2) /raw (3) /<table> (4): tables are raw's folders.
    assert json.loads(crawler["Configuration"])["Grouping"] == {"TableLevelConfiguration": 4}
    # The workflow and its chain: start -> extract -> marts -> crawler.
    assert glue.get_workflow(Name="sakila-lake")["Workflow"]["MaxConcurrentRuns"] == 1
    start, after_extract, after_marts = (glue.get_trigger(Name=n)["Trigger"] for n in TRIGGERS)
    assert (start["Type"], start["Actions"]) == ("ON_DEMAND", [{"JobName": "sakila-lake-extract"}])
    for trigger, job, action in (
        (after_extract, "sakila-lake-extract", {"JobName": "sakila-lake-marts"}),
        (after_marts, "sakila-lake-marts", {"CrawlerName": "sakila-lake-raw"}),
    ):
        assert trigger["WorkflowName"] == "sakila-lake"
        assert (trigger["Type"], trigger["State"]) == ("CONDITIONAL", "ACTIVATED")
        assert trigger["Predicate"]["Conditions"] == [
            {"LogicalOperator": "EQUALS", "JobName": job, "State": "SUCCEEDED"}
        ]
        assert trigger["Actions"] == [action]
    # The Athena workgroup, its result location enforced.
    configuration = athena.get_work_group(WorkGroup="sakila-lake")["WorkGroup"]["Configuration"]
    assert configuration["ResultConfiguration"]["OutputLocation"] == (
        f"s3://{RESULTS_BUCKET}/results/"
    )
    assert configuration["EnforceWorkGroupConfiguration"] is True
    assert configuration["EngineVersion"]["SelectedEngineVersion"] == "Athena engine version 3"


def test_a_second_deploy_changes_nothing_and_makes_no_changing_call(deploy_settings, aws_calls):
    lake("deploy")
    aws_calls.clear()

    output = lake("deploy")

    assert f"Plan: {RESOURCES} unchanged." in output
    assert "Nothing to change." in output
    assert aws_calls  # it did read everything...
    assert mutating(aws_calls) == []  # ...and wrote nothing, not even the assets


def test_dry_run_prints_the_plan_and_changes_nothing(deploy_settings, aws_calls):
    output = lake("deploy", "--dry-run")

    assert "  create     Glue job          sakila-lake-extract" in output
    assert f"Plan: {RESOURCES} to create." in output
    assert "Dry run: nothing was changed." in output
    assert mutating(aws_calls) == []
    assert aws_client("s3").list_buckets()["Buckets"] == []
    assert glue_names()["jobs"] == []


def test_a_changed_setting_updates_only_what_uses_it(deploy_settings, aws_calls):
    deployed()
    deploy_settings.GLUE_JDBC_URL = "jdbc:mysql://replica.abc123.rds.amazonaws.com:3306/sakila"
    aws_calls.clear()

    output = lake("deploy")

    assert f"Plan: 1 to update, {RESOURCES - 1} unchanged." in output
    assert (
        "  update     Glue connection   sakila-lake-rds\n"
        "              ConnectionProperties.JDBC_CONNECTION_URL: "
        "jdbc:mysql://sakila.abc123.us-east-1.rds.amazonaws.com:3306/sakila -> "
        "jdbc:mysql://replica.abc123.rds.amazonaws.com:3306/sakila\n"
    ) in output
    assert mutating(aws_calls) == ["glue:UpdateConnection"]
    connection = aws_client("glue").get_connection(Name="sakila-lake-rds")["Connection"]
    assert connection["ConnectionProperties"]["JDBC_CONNECTION_URL"].startswith(
        "jdbc:mysql://replica"
    )
    assert set(kinds(deploy_plan()).values()) == {UNCHANGED}


def test_more_workers_update_both_jobs_and_keep_the_rest_of_their_definition(deploy_settings):
    deployed()
    deploy_settings.GLUE_WORKERS = 5

    plan = deploy_plan()

    updates = [action for action in plan.actions if action.kind == UPDATE]
    assert [str(action.resource) for action in updates] == [f"Glue job {name}" for name in JOBS]
    assert all(action.changes == ["NumberOfWorkers: 2 -> 5"] for action in updates)
    plan_apply(plan)
    for name in JOBS:
        job = aws_client("glue").get_job(JobName=name)["Job"]
        assert job["NumberOfWorkers"] == 5
        # UpdateJob resets what it is not sent: deploy sends the whole definition.
        assert job["DefaultArguments"]["--TempDir"] == f"{ASSETS}/tmp/"
        assert job["Command"]["ScriptLocation"].startswith(ASSETS)
    assert set(kinds(deploy_plan()).values()) == {UNCHANGED}


def test_drift_made_by_hand_is_undone(deploy_settings):
    deployed()
    glue, athena = aws_client("glue"), aws_client("athena")
    glue.stop_trigger(Name="sakila-lake-after-extract")
    extract = glue.get_job(JobName="sakila-lake-extract")["Job"]
    arguments = {**extract["DefaultArguments"], "--debug": "true"}
    glue.update_job(
        JobName="sakila-lake-extract",
        JobUpdate={
            "Role": extract["Role"],
            "Command": extract["Command"],
            "DefaultArguments": arguments,
        },
    )
    glue.update_crawler(
        Name="sakila-lake-raw", RecrawlPolicy={"RecrawlBehavior": "CRAWL_EVERYTHING"}
    )
    athena.update_work_group(
        WorkGroup="sakila-lake", ConfigurationUpdates={"EnforceWorkGroupConfiguration": False}
    )

    plan = deploy_plan()

    changes = {str(a.resource): a.changes for a in plan.actions if a.kind == UPDATE}
    assert changes["Glue trigger sakila-lake-after-extract"] == ["State: DEACTIVATED -> ACTIVATED"]
    assert "DefaultArguments.--debug: true -> (none)" in changes["Glue job sakila-lake-extract"]
    assert changes["Glue crawler sakila-lake-raw"] == [
        "RecrawlPolicy.RecrawlBehavior: CRAWL_EVERYTHING -> CRAWL_NEW_FOLDERS_ONLY"
    ]
    assert changes["Athena workgroup sakila-lake"] == [
        "Configuration.EnforceWorkGroupConfiguration: false -> true"
    ]
    assert len(changes) == 4
    plan_apply(plan)
    assert glue.get_trigger(Name="sakila-lake-after-extract")["Trigger"]["State"] == "ACTIVATED"
    assert "--debug" not in glue.get_job(JobName="sakila-lake-extract")["Job"]["DefaultArguments"]
    assert set(kinds(deploy_plan()).values()) == {UNCHANGED}


def test_changed_assets_are_uploaded_again_and_stale_ones_deleted(deploy_settings, aws_calls):
    deployed()
    s3 = aws_client("s3")
    script = f"lake/_glue/{assets.job_script_key('marts')}"
    s3.put_object(Bucket=WAREHOUSE_BUCKET, Key=script, Body=b"# edited by hand\n")
    s3.put_object(Bucket=WAREHOUSE_BUCKET, Key="lake/_glue/scripts/old_job.py", Body=b"old")
    s3.put_object(Bucket=WAREHOUSE_BUCKET, Key="lake/_glue/tmp/spark-scratch", Body=b"x")
    aws_calls.clear()

    plan = deploy_plan()

    changed = {str(a.resource): a.kind for a in plan.actions if a.kind != UNCHANGED}
    assert changed == {
        f"S3 object s3://{WAREHOUSE_BUCKET}/{script}": UPDATE,
        f"S3 object s3://{WAREHOUSE_BUCKET}/lake/_glue/scripts/old_job.py": DELETE,
    }
    plan_apply(plan)
    assert mutating(aws_calls) == ["s3:PutObject", "s3:DeleteObject"]
    body = s3.get_object(Bucket=WAREHOUSE_BUCKET, Key=script)["Body"].read()
    assert body == assets.job_assets()[assets.job_script_key("marts")]
    # Glue's scratch files are not assets: deploy leaves them alone.
    assert "lake/_glue/tmp/spark-scratch" in s3_keys(WAREHOUSE_BUCKET)


def test_deploy_keeps_an_existing_bucket_as_it_is(deploy_settings, aws_calls):
    aws_client("s3").create_bucket(Bucket=WAREHOUSE_BUCKET)

    plan = deploy_plan()

    assert kinds(plan)[f"S3 bucket {WAREHOUSE_BUCKET}"] == UNCHANGED
    assert kinds(plan)[f"S3 bucket {RESULTS_BUCKET}"] == CREATE


def test_missing_settings_are_named_together_before_any_aws_call(deploy_settings, aws_calls):
    deploy_settings.GLUE_ROLE_ARN = ""
    deploy_settings.GLUE_JDBC_URL = ""
    deploy_settings.GLUE_SECURITY_GROUP_IDS = []
    deploy_settings.LAKE_WAREHOUSE = "/srv/lake"

    with pytest.raises(CommandError) as raised:
        lake("deploy", "--dry-run")

    message = str(raised.value)
    assert message.startswith("lake deploy needs these settings (environment variables")
    for expected in (
        "LAKE_WAREHOUSE must start with s3:// (it is '/srv/lake')",
        "GLUE_ROLE_ARN not set",
        "GLUE_JDBC_URL not set",
        "GLUE_SECURITY_GROUP_IDS not set",
    ):
        assert expected in message
    assert "GLUE_JDBC_SECRET_ID" not in message  # only what is wrong
    assert aws_calls == []


def test_prerequisites_that_do_not_exist_are_all_named_before_any_change(
    deploy_settings, aws_calls
):
    """A made-up role, secret, subnet and security group gave a clean plan, and
    jobs that failed at their first run (issue 25, defect 4)."""
    deploy_settings.GLUE_ROLE_ARN = "arn:aws:iam::123456789012:role/made-up"
    deploy_settings.GLUE_JDBC_SECRET_ID = "made/up"
    deploy_settings.GLUE_SUBNET_ID = "subnet-0123456789abcdef0"
    deploy_settings.GLUE_SECURITY_GROUP_IDS = [
        *deploy_settings.GLUE_SECURITY_GROUP_IDS, "sg-0123456789abcdef0",
    ]  # fmt: skip

    with pytest.raises(CommandError) as raised:
        lake("deploy", "--dry-run")

    message = str(raised.value)
    assert message.startswith("lake deploy needs these to exist first (docs/aws.md, Deploying")
    assert (
        "GLUE_ROLE_ARN arn:aws:iam::123456789012:role/made-up (IAM role) does not exist: "
        "NoSuchEntity: Role made-up not found" in message
    )
    assert "GLUE_JDBC_SECRET_ID made/up (Secrets Manager secret) does not exist" in message
    assert (
        "GLUE_SUBNET_ID subnet-0123456789abcdef0 (subnet) does not exist: "
        "InvalidSubnetID.NotFound: The subnet ID 'subnet-0123456789abcdef0' does not exist"
    ) in message
    assert "GLUE_SECURITY_GROUP_IDS sg-0123456789abcdef0 (security group) does not exist" in message
    assert len(message.splitlines()) == 5  # the security group that exists is not named
    assert mutating(aws_calls) == []


def test_destroy_refuses_while_a_workflow_run_is_active_naming_it(deploy_settings):
    """AWS deletes a running workflow, and its run then fails (defect 3): destroy
    refuses unless told to go on. moto's workflow runs stay RUNNING."""
    lake("deploy")
    glue = aws_client("glue")
    run_id = glue.start_workflow_run(Name="sakila-lake")["RunId"]

    with pytest.raises(CommandError) as raised:
        lake("destroy", "--no-input")

    assert str(raised.value).startswith(
        f"Workflow sakila-lake has an active run: {run_id} (RUNNING, started "
    )
    assert "--ignore-active-run" in str(raised.value)
    assert glue.get_workflow(Name="sakila-lake")["Workflow"]["Name"] == "sakila-lake"
    out = lake("destroy", "--no-input", "--ignore-active-run")
    assert "Destroyed:" in out
    with pytest.raises(glue.exceptions.EntityNotFoundException):
        glue.get_workflow(Name="sakila-lake")


def test_an_aws_error_stops_deploy_with_its_message_and_a_rerun_finishes(deploy_settings):
    """moto grants every call: AccessDenied is answered for CreateCrawler by a
    handler in front of the call, the way AWS answers a role without it."""
    glue = aws_client("glue")

    def access_denied(**kwargs):
        body = {
            "Error": {
                "Code": "AccessDeniedException",
                "Message": "User: arn:aws:iam::123456789012:user/deployer is not authorized "
                "to perform: glue:CreateCrawler",
            }
        }
        return FakeHttpResponse(400), body

    glue.meta.events.register("before-call.glue.CreateCrawler", access_denied, "deny-crawler")
    try:
        with pytest.raises(CommandError) as raised:
            lake("deploy")
    finally:
        glue.meta.events.unregister("before-call.glue.CreateCrawler", unique_id="deny-crawler")

    assert str(raised.value) == (
        "Could not create Glue crawler sakila-lake-raw: AccessDeniedException: "
        "User: arn:aws:iam::123456789012:user/deployer is not authorized to perform: "
        "glue:CreateCrawler\n"
        f"{RESOURCES - 9} of {RESOURCES} changes were made before it; fix the cause and run "
        "`lake deploy` again to finish."
    )
    output = lake("deploy")
    # The crawler, the workflow, its three triggers, the workgroup, the alerts topic
    # and its two rules were left.
    assert f"Plan: 9 to create, {RESOURCES - 9} unchanged." in output
    assert set(kinds(deploy_plan()).values()) == {UNCHANGED}


class FakeHttpResponse:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
        self.headers: dict[str, str] = {}
        self.content = b""
        self.raw = None


def put_lake_data(glue_table_location: str) -> None:
    """Files in the zones, an Iceberg table outside them, an Athena result."""
    s3 = aws_client("s3")
    for key in ("lake/raw/rental/run_id=1/part-0.parquet", "lake/marts/fact_sales/data/0.parquet"):
        s3.put_object(Bucket=WAREHOUSE_BUCKET, Key=key, Body=b"data")
    bucket, _, key = glue_table_location.removeprefix("s3://").partition("/")
    s3.put_object(Bucket=bucket, Key=f"{key}/metadata/00001.metadata.json", Body=b"{}")
    s3.put_object(Bucket=RESULTS_BUCKET, Key="results/abc.csv", Body=b"a\n1\n")
    aws_client("glue").create_table(
        DatabaseName="sakila_staging",
        TableInput={
            "Name": "rental",
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {"table_type": "ICEBERG"},
            "StorageDescriptor": {"Location": glue_table_location},
        },
    )


def test_destroy_removes_what_deploy_made_and_keeps_the_data(deploy_settings, aws_calls):
    deployed()
    put_lake_data(f"s3://{WAREHOUSE_BUCKET}/lake/sakila_staging.db/rental")
    aws_client("s3").put_object(Bucket=WAREHOUSE_BUCKET, Key="lake/_glue/tmp/x", Body=b"x")

    output = lake("destroy", "--no-input")

    assert glue_names() == {
        "jobs": [],
        "crawlers": [],
        "triggers": [],
        "workflows": [],
        "connections": [],
        "databases": sorted(DATABASES),
    }
    work_groups = aws_client("athena").list_work_groups()["WorkGroups"]
    assert "sakila-lake" not in {group["Name"] for group in work_groups}
    assert s3_keys(WAREHOUSE_BUCKET) == [
        "lake/marts/fact_sales/data/0.parquet",
        "lake/raw/rental/run_id=1/part-0.parquet",
        "lake/sakila_staging.db/rental/metadata/00001.metadata.json",
    ]
    assert s3_keys(RESULTS_BUCKET) == ["results/abc.csv"]
    assert (
        "  keep       Glue database     sakila_staging  (the lake's data: --delete-data deletes it)"
        in output
    )
    assert (
        f"  keep       S3 bucket         {WAREHOUSE_BUCKET}  (buckets are never deleted)" in output
    )
    keys = assets.job_assets()
    asset_places = len({key.split("/")[0] for key in keys})  # folders and top-level files
    # 2 rules, the alerts topic, workgroup, 3 triggers, workflow, crawler, 2 jobs,
    # connection; Glue's tmp/ folder.
    assert f"Destroyed: {12 + asset_places + 1} deleted." in output

    aws_calls.clear()
    again = lake("destroy", "--no-input")
    assert "Nothing to change." in again
    assert "to delete" not in again
    assert mutating(aws_calls) == []


def test_destroy_with_delete_data_deletes_the_databases_and_every_data_prefix(deploy_settings):
    deployed()
    put_lake_data(f"s3://{WAREHOUSE_BUCKET}/lake/sakila_staging.db/rental")

    plan = destroy_plan(delete_data=True)

    planned = kinds(plan)
    for database in DATABASES:
        assert planned[f"Glue database {database}"] == DELETE
    assert planned[f"S3 prefix s3://{WAREHOUSE_BUCKET}/lake/raw/"] == DELETE
    assert planned[f"S3 prefix s3://{WAREHOUSE_BUCKET}/lake/sakila_staging.db/rental/"] == DELETE
    assert planned[f"S3 prefix s3://{WAREHOUSE_BUCKET}/lake/staging/"] == ABSENT
    assert planned[f"S3 prefix s3://{RESULTS_BUCKET}/results/"] == DELETE
    assert planned[f"S3 bucket {WAREHOUSE_BUCKET}"] == KEEP
    plan_apply(plan)
    assert glue_names()["databases"] == []
    assert s3_keys(WAREHOUSE_BUCKET) == []
    assert s3_keys(RESULTS_BUCKET) == []
    assert {bucket["Name"] for bucket in aws_client("s3").list_buckets()["Buckets"]} == {
        WAREHOUSE_BUCKET,
        RESULTS_BUCKET,
    }
    assert set(kinds(destroy_plan(delete_data=True)).values()) == {ABSENT, KEEP}


def test_destroy_dry_run_changes_nothing(deploy_settings, aws_calls):
    deployed()
    aws_calls.clear()

    output = lake("destroy", "--dry-run", "--delete-data")

    assert "  delete     Glue job          sakila-lake-extract" in output
    assert "  delete     Glue database     sakila_raw" in output
    assert "Dry run: nothing was changed." in output
    assert mutating(aws_calls) == []
    assert len(glue_names()["jobs"]) == 2


def test_destroy_asks_for_confirmation(deploy_settings, monkeypatch):
    deployed()
    monkeypatch.setattr("builtins.input", lambda prompt: "no")

    with pytest.raises(CommandError, match="Cancelled: nothing was changed."):
        lake("destroy")

    assert len(glue_names()["jobs"]) == 2


def create_iceberg_tables(database: str, tables: list[str]) -> None:
    """Tables as the jobs' first run leaves them in the Glue catalog."""
    for table in tables:
        aws_client("glue").create_table(
            DatabaseName=database,
            TableInput={
                "Name": table,
                "TableType": "EXTERNAL_TABLE",
                "Parameters": {"table_type": "ICEBERG"},
                "StorageDescriptor": {"Location": f"s3://{WAREHOUSE_BUCKET}/lake/x/{table}"},
            },
        )


@pytest.mark.slow
def test_table_optimizers_are_turned_on_once_the_tables_exist_and_destroy_removes_them(
    deploy_settings, aws_calls
):
    deploy_settings.GLUE_OPTIMIZER_ROLE_ARN = aws_client("iam").create_role(
        RoleName="sakila-optimizer", AssumeRolePolicyDocument=GLUE_TRUST
    )["Role"]["Arn"]
    first = lake("deploy")
    staging, marts = optimized_tables("staging"), optimized_tables("marts")
    assert (
        f"The table optimizers of {len(staging) + len(marts)} tables wait for them "
        f"(sakila_staging.{staging[0]}...): the first run makes the tables; run `lake deploy` "
        "again after it."
    ) in first
    # The first run made the tables.
    create_iceberg_tables("sakila_staging", staging)
    create_iceberg_tables("sakila_marts", marts)
    aws_calls.clear()

    second = lake("deploy")

    count = 3 * (len(staging) + len(marts))
    assert f"Deployed: {count} created." in second and "wait for them" not in second
    assert sorted(set(mutating(aws_calls))) == ["glue:CreateTableOptimizer"]
    glue = aws_client("glue")
    key = {"CatalogId": "123456789012", "DatabaseName": "sakila_marts", "TableName": "fact_sales"}
    retention = glue.get_table_optimizer(**key, Type="retention")["TableOptimizer"]
    assert retention["configuration"] == {
        "roleArn": "arn:aws:iam::123456789012:role/sakila-optimizer",
        "enabled": True,
        "retentionConfiguration": {
            "icebergConfiguration": {
                "snapshotRetentionPeriodInDays": 7,
                "numberOfSnapshotsToRetain": 1,
                "cleanExpiredFiles": True,
            }
        },
    }
    orphans = glue.get_table_optimizer(**key, Type="orphan_file_deletion")["TableOptimizer"]
    assert orphans["configuration"]["orphanFileDeletionConfiguration"] == {
        "icebergConfiguration": {"orphanFileRetentionPeriodInDays": 3}
    }
    compaction = glue.get_table_optimizer(**key, Type="compaction")["TableOptimizer"]
    assert compaction["configuration"]["enabled"] is True
    assert "Nothing to change." in lake("deploy")
    # A longer retention window updates the retention optimizers only.
    deploy_settings.GLUE_SNAPSHOT_RETENTION_DAYS = 14
    updates = [a for a in deploy_plan().actions if a.kind == UPDATE]
    assert len(updates) == len(staging) + len(marts)
    assert all(str(a.resource).endswith(" retention") for a in updates)

    output = lake("destroy", "--no-input")

    assert "  delete     Glue optimizer    sakila_marts.fact_sales compaction" in output
    for optimizer in ("compaction", "retention", "orphan_file_deletion"):
        with pytest.raises(glue.exceptions.EntityNotFoundException):
            glue.get_table_optimizer(**key, Type=optimizer)
    assert "Nothing to change." in lake("destroy", "--no-input")


def test_glue_4_jobs_keep_continuous_logging(deploy_settings):
    deploy_settings.GLUE_VERSION = "4.0"
    arguments = GlueJob("extract").desired()["DefaultArguments"]
    assert arguments["--enable-continuous-cloudwatch-log"] == "true"
    deploy_settings.GLUE_VERSION = "5.0"
    assert (
        "--enable-continuous-cloudwatch-log" not in GlueJob("extract").desired()["DefaultArguments"]
    )


def test_destroy_needs_only_the_names(deploy_settings):
    deployed()
    create_iceberg_tables("sakila_marts", ["fact_sales"])
    deployed()  # its optimizers
    deploy_settings.GLUE_ROLE_ARN = ""
    deploy_settings.GLUE_JDBC_URL = ""

    plan = lake("destroy", "--dry-run")

    assert "  delete     Glue optimizer    sakila_marts.fact_sales compaction" in plan


def test_field_changes_compare_only_what_deploy_sets_except_exact_fields():
    desired = {"A": 1, "Args": {"--x": "1"}, "Targets": [{"Path": "p"}]}
    current = {
        "A": 1,
        "Added": "by AWS",
        "Args": {"--x": "1", "--y": "2"},
        "Targets": [{"Path": "p", "Exclusions": []}],
    }

    assert list(field_changes(desired, current)) == []
    assert list(field_changes(desired, current, exact=("Args",))) == ["Args.--y: 2 -> (none)"]
    assert list(field_changes({"A": [1, 2]}, {"A": [2, 1]})) == ["A: [2, 1] -> [1, 2]"]
    # A field AWS's answer leaves out (moto's GetConnection: ConnectionType) is not compared.
    assert list(field_changes({"ConnectionType": "JDBC", "A": 1}, {"A": 1})) == []
