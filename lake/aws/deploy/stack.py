"""What ``lake deploy`` makes, in order (buckets, job assets, databases, table
optimizers, the connection, jobs, crawler, workflow and triggers, the Athena
workgroup, the failures' SNS topic and EventBridge rules), and what ``lake
destroy`` removes, in reverse.

Destroy keeps the lake's data (the Glue databases with their tables, the
lake's files, Athena's results) unless ``delete_data`` is asked for, and
never deletes a bucket."""

from django.conf import settings

from lake.aws import assets, names
from lake.aws.clients import s3_split
from lake.aws.deploy.alerts import AlertTopic, failure_rules
from lake.aws.deploy.athena import AthenaWorkGroup
from lake.aws.deploy.checks import check_no_active_run, check_prerequisites
from lake.aws.deploy.config import GLUE_TEMP_FOLDER, ZONES, assets_uri, check_settings, warehouse
from lake.aws.deploy.glue import GlueConnection, GlueCrawler, GlueDatabase, GlueJob
from lake.aws.deploy.optimizers import table_optimizers
from lake.aws.deploy.plan import DELETE, KEEP, Action, Plan, aws_reading, planned, planned_removal
from lake.aws.deploy.resource import Resource
from lake.aws.deploy.s3 import S3Bucket, S3Object, S3Prefix
from lake.aws.deploy.workflow import GlueWorkflow, workflow_triggers


def _buckets() -> list[S3Bucket]:
    uris = (warehouse(), assets_uri(), settings.ATHENA_S3_STAGING_DIR)
    return [S3Bucket(bucket) for bucket in sorted({s3_split(uri)[0] for uri in uris})]


def _asset_folders(files: dict[str, bytes]) -> list[str]:
    """The folders under GLUE_ASSETS_URI that hold only what deploy uploads."""
    return sorted({key.split("/", 1)[0] for key in files if "/" in key})


def deploy_plan() -> Plan:
    """What ``lake deploy`` would change; nothing is changed."""
    check_settings("deploy")
    check_prerequisites()
    files = assets.job_assets()
    resources: list[Resource] = [*_buckets()]
    resources += [S3Object(f"{assets_uri()}/{key}", body) for key, body in sorted(files.items())]
    resources += [GlueDatabase(zone) for zone in ZONES]
    optimizers, waiting = table_optimizers()
    resources += optimizers
    resources += [GlueConnection(), *(GlueJob(job) for job in names.GLUE_JOBS), GlueCrawler()]
    resources += [GlueWorkflow(), *workflow_triggers(), AthenaWorkGroup()]
    resources += [AlertTopic(), *failure_rules()]
    actions = [planned(resource) for resource in resources]
    notes = []
    if waiting:
        notes.append(
            f"The table optimizers of {len(waiting)} tables wait for them ({waiting[0]}...): "
            "the first run makes the tables; run `lake deploy` again after it."
        )
    for folder in _asset_folders(files):
        uploaded = S3Prefix(f"{assets_uri()}/{folder}")
        for key in aws_reading(str(uploaded), uploaded.keys):
            relative = key.removeprefix(s3_split(assets_uri())[1]).lstrip("/")
            if relative not in files:
                stale = S3Object(f"s3://{uploaded.bucket}/{key}")
                actions.append(Action(DELETE, stale, note="no longer uploaded", run=stale.delete))
    return Plan("deploy", actions, notes)


def _data_prefixes(databases: list[GlueDatabase]) -> list[str]:
    """Where the lake's data lives: the zones, every table's location, Athena's results."""
    uris = [f"{warehouse()}/{zone}" for zone in ZONES]
    for database in databases:
        uris += aws_reading(f"the tables of {database}", database.table_locations)
    uris.append(settings.ATHENA_S3_STAGING_DIR.rstrip("/"))
    kept: list[str] = []
    for uri in sorted(set(uris)):  # a parent sorts before its children
        if not any(uri.startswith(f"{parent}/") for parent in kept):
            kept.append(uri)
    return kept


def destroy_plan(*, delete_data: bool = False, ignore_active_run: bool = False) -> Plan:
    """What ``lake destroy`` would delete, in reverse order of creation.

    The lake's data (the Glue databases with their tables, the zones' files,
    Athena's results) is kept unless ``delete_data``; buckets are always kept.
    Refused while the workflow has an active run, unless ``ignore_active_run``.
    """
    check_settings("destroy", for_destroy=True)
    if not ignore_active_run:
        check_no_active_run()
    files = assets.job_assets()
    workgroup = AthenaWorkGroup()
    actions = [planned_removal(rule) for rule in reversed(failure_rules())]
    actions += [planned_removal(AlertTopic())]
    actions += [
        planned_removal(
            workgroup,
            keep_reason="Athena's primary workgroup cannot be deleted"
            if workgroup.name == "primary"
            else "",
        )
    ]
    resources: list[Resource] = [*reversed(workflow_triggers()), GlueWorkflow(), GlueCrawler()]
    resources += [*(GlueJob(job) for job in reversed(names.GLUE_JOBS)), GlueConnection()]
    folders = [*_asset_folders(files), GLUE_TEMP_FOLDER]
    resources += [S3Prefix(f"{assets_uri()}/{folder}") for folder in folders]
    resources += [S3Object(f"{assets_uri()}/{key}") for key in sorted(files) if "/" not in key]
    actions += [planned_removal(resource) for resource in resources]
    actions += [planned_removal(optimizer) for optimizer in table_optimizers()[0]]

    keep_data = "" if delete_data else "the lake's data: --delete-data deletes it"
    databases = [GlueDatabase(zone) for zone in ZONES]
    for database in databases:
        actions.append(planned_removal(database, keep_reason=keep_data))
    for uri in _data_prefixes(databases):
        if not s3_split(uri)[1]:
            actions.append(Action(KEEP, S3Prefix(uri), note="a bucket's root is never deleted"))
        else:
            actions.append(planned_removal(S3Prefix(uri), keep_reason=keep_data))
    actions += [Action(KEEP, bucket, note="buckets are never deleted") for bucket in _buckets()]
    return Plan("destroy", actions)
