"""Provisioning of the lake's AWS resources: ``lake deploy`` and ``lake destroy``.

The resources are computed from settings (names from ``lake.aws.names``):
the S3 buckets, the uploaded job assets, the Glue databases, the JDBC
connection, the jobs, the crawler over the raw zone, the workflow and its
triggers (start -> extract -> marts -> crawler) and the Athena workgroup.

A plan is computed in full with read-only calls before anything changes:
each resource is read, compared field by field with what the settings ask
for, and becomes an action (create, update with the changed fields,
replace, delete, unchanged). Applying the plan makes only those calls, so a
second deploy finds everything unchanged and changes nothing.

``destroy`` removes what deploy made, in reverse order. It keeps the lake's
data (the Glue databases with their tables, the lake's files, Athena's
results) unless ``delete_data`` is asked for, and never deletes a bucket.
"""

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from lake.aws import assets, names
from lake.aws.clients import aws_client, s3_split

CREATE, UPDATE, REPLACE, DELETE = "create", "update", "replace", "delete"
UNCHANGED, ABSENT, KEEP = "unchanged", "absent", "keep"
CHANGING_KINDS = (CREATE, UPDATE, REPLACE, DELETE)

# Every resource deploy creates carries this tag, so they can be found in the console.
TAG_KEY, TAG_VALUE = "managed-by", "sakila-lake deploy"
ZONES = ("raw", "staging", "marts")
GLUE_TEMP_FOLDER = "tmp"  # under GLUE_ASSETS_URI: Glue's --TempDir
JOBS_WITH_CONNECTION = ("extract",)  # the jobs that reach the rental database
ATHENA_ENGINE = "Athena engine version 3"  # Iceberg time travel needs v3
NOT_FOUND_CODES = {"EntityNotFoundException", "NoSuchKey", "NoSuchBucket", "404", "NotFound"}


class DeployError(Exception):
    """A deploy or destroy that cannot go on; the message says why."""


# --- settings ----------------------------------------------------------------


def _not_set(value: object) -> str | None:
    return None if value else "not set"


def _prefix_problem(value: str, prefix: str) -> str | None:
    if not value:
        return "not set"
    if not value.startswith(prefix) or value == prefix:
        return f"must start with {prefix} (it is {value!r})"
    return None


def settings_problems(*, for_destroy: bool = False) -> list[str]:
    """What is missing or wrong in the settings deploy (or destroy) needs."""
    checks = [
        ("AWS_REGION", _not_set(settings.AWS_REGION), "the region to deploy to"),
        ("LAKE_WAREHOUSE", _prefix_problem(settings.LAKE_WAREHOUSE, "s3://"), "s3://bucket/lake"),
        ("GLUE_ASSETS_URI", _prefix_problem(settings.GLUE_ASSETS_URI, "s3://"), "job scripts"),
        (
            "ATHENA_S3_STAGING_DIR",
            _prefix_problem(settings.ATHENA_S3_STAGING_DIR, "s3://"),
            "Athena's query results",
        ),
        ("ATHENA_WORKGROUP", _not_set(settings.ATHENA_WORKGROUP), "the reports' workgroup"),
    ]
    if not for_destroy:  # destroy needs only the names
        checks += [
            (
                "GLUE_ROLE_ARN",
                _prefix_problem(settings.GLUE_ROLE_ARN, "arn:"),
                "the role the jobs and the crawler run as, see docs/aws-iam-glue-jobs.json",
            ),
            (
                "GLUE_JDBC_URL",
                _prefix_problem(settings.GLUE_JDBC_URL, "jdbc:"),
                "jdbc:mysql://<rds-endpoint>:3306/sakila",
            ),
            (
                "GLUE_JDBC_SECRET_ID",
                _not_set(settings.GLUE_JDBC_SECRET_ID),
                "the Secrets Manager secret with the database's username and password",
            ),
            (
                "GLUE_SUBNET_ID",
                _not_set(settings.GLUE_SUBNET_ID),
                "a subnet from which the jobs reach the database",
            ),
            (
                "GLUE_SECURITY_GROUP_IDS",
                _not_set(settings.GLUE_SECURITY_GROUP_IDS),
                "comma-separated security groups the database admits",
            ),
            (
                "GLUE_WORKERS",
                None if settings.GLUE_WORKERS >= 2 else f"is {settings.GLUE_WORKERS}",
                "at least 2",
            ),
        ]
    return [f"{name} {problem} ({hint})" for name, problem, hint in checks if problem]


def _check_settings(command: str, *, for_destroy: bool = False) -> None:
    if problems := settings_problems(for_destroy=for_destroy):
        lines = "\n".join(f"  - {problem}" for problem in problems)
        raise DeployError(
            f"lake {command} needs these settings (environment variables, see README "
            f'"Running on AWS"):\n{lines}'
        )


def warehouse() -> str:
    return settings.LAKE_WAREHOUSE.rstrip("/")


def assets_uri() -> str:
    return settings.GLUE_ASSETS_URI.rstrip("/")


def glue_database(zone: str) -> str:
    """The Glue database of a lake zone: what ``catalog_namespace`` answers
    with LAKE_CATALOG=glue, whatever the catalog of the deploying process."""
    return f"{settings.GLUE_DATABASE}_{zone}"


def _glue_version() -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in settings.GLUE_VERSION.split("."))
    except ValueError:
        return (0,)


def _subnet_zone(subnet_id: str) -> str:
    try:
        subnets = aws_client("ec2").describe_subnets(SubnetIds=[subnet_id])["Subnets"]
    except ClientError as error:
        raise DeployError(f"GLUE_SUBNET_ID {subnet_id}: {_aws_message(error)}") from None
    return subnets[0]["AvailabilityZone"]


# --- comparing ----------------------------------------------------------------

_MISSING = object()


def _show(value: Any) -> str:
    if value is None or value is _MISSING:
        return "(none)"
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 100 else f"{text[:97]}..."


def field_changes(desired: Any, current: Any, path: str = "", exact: tuple = ()) -> Iterator[str]:
    """``"<field>: <current> -> <desired>"`` for each field that differs.

    Only the fields deploy sets are compared (AWS adds its own: timestamps,
    defaults), and of those only the ones AWS's answer holds: a field it
    leaves out cannot be told from a default (moto's GetConnection has no
    ConnectionType, for one). The dicts named in ``exact`` must match key for
    key (the jobs' arguments: an argument deploy no longer sets is removed).
    """
    name = path.rsplit(".", 1)[-1]
    if isinstance(desired, dict) and isinstance(current, dict):
        keys = desired.keys() | current.keys() if name in exact else desired.keys() & current.keys()
        for key in sorted(keys):
            yield from field_changes(
                desired.get(key, _MISSING),
                current.get(key, _MISSING),
                f"{path}.{key}" if path else key,
                exact,
            )
    elif (
        isinstance(desired, list)
        and isinstance(current, list)
        and len(desired) == len(current)
        and all(isinstance(item, dict) for item in desired)
    ):
        for index, (want, have) in enumerate(zip(desired, current, strict=True)):
            yield from field_changes(want, have, f"{path}[{index}]", exact)
    elif desired != current and not (desired is _MISSING and current is None):
        yield f"{path}: {_show(current)} -> {_show(desired)}"


def _canonical_json(text: str | None) -> str | None:
    if not text:
        return text
    try:
        return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    except ValueError:
        return text


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _is_not_found(error: ClientError) -> bool:
    code = _error_code(error)
    message = str(error.response.get("Error", {}).get("Message", ""))
    # Athena answers a missing workgroup with InvalidRequestException.
    return code in NOT_FOUND_CODES or (
        code == "InvalidRequestException" and "not found" in message.lower()
    )


def _aws_message(error: Exception) -> str:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code = details.get("Code", "")
        if code == "403":  # S3 answers HEAD requests with no message
            return "403 Forbidden: access denied (another account's bucket, or not allowed by IAM)"
        return f"{code}: {details.get('Message', error)}"
    return str(error)


# --- resources ----------------------------------------------------------------


def _tags() -> dict[str, str]:
    return {TAG_KEY: TAG_VALUE}


class Resource:
    """One AWS resource deploy manages: how to read, create, update, delete it.

    ``desired()`` is shaped like what ``read()`` returns, so the two compare
    field by field; fields in ``immutable`` cannot change in place (replace).
    """

    kind: ClassVar[str] = ""
    immutable: ClassVar[tuple[str, ...]] = ()
    exact: ClassVar[tuple[str, ...]] = ()

    def __init__(self, name: str) -> None:
        self.name = name

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"

    def desired(self) -> dict[str, Any]:
        return {}

    def read(self) -> dict[str, Any] | None:
        raise NotImplementedError

    def create(self) -> None:
        raise NotImplementedError

    def update(self, current: dict[str, Any]) -> None:
        raise NotImplementedError

    def delete(self) -> None:
        raise NotImplementedError


def _read(call: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    try:
        return call()
    except ClientError as error:
        if _is_not_found(error):
            return None
        raise


class S3Bucket(Resource):
    """A bucket the lake uses. Created when missing (public access blocked);
    an existing bucket's settings are its owner's, so they are not compared."""

    kind = "S3 bucket"

    def read(self) -> dict[str, Any] | None:
        def head() -> dict[str, Any]:
            aws_client("s3").head_bucket(Bucket=self.name)
            return {}

        return _read(head)

    def create(self) -> None:
        s3 = aws_client("s3")
        location = {}
        if settings.AWS_REGION != "us-east-1":  # us-east-1 refuses its own name here
            location = {"CreateBucketConfiguration": {"LocationConstraint": settings.AWS_REGION}}
        s3.create_bucket(Bucket=self.name, **location)
        s3.put_public_access_block(
            Bucket=self.name,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )


class S3Object(Resource):
    """An uploaded file; compared by the SHA-256 kept in its metadata (an
    ETag is not the MD5 under SSE-KMS or multipart uploads)."""

    kind = "S3 object"

    def __init__(self, uri: str, body: bytes | None = None) -> None:
        super().__init__(uri)
        self.bucket, self.key = s3_split(uri)
        self.body = body

    def desired(self) -> dict[str, Any]:
        return {"sha256": hashlib.sha256(self.body or b"").hexdigest()}

    def read(self) -> dict[str, Any] | None:
        head = _read(lambda: aws_client("s3").head_object(Bucket=self.bucket, Key=self.key))
        return None if head is None else {"sha256": head.get("Metadata", {}).get("sha256")}

    def create(self) -> None:
        aws_client("s3").put_object(
            Bucket=self.bucket, Key=self.key, Body=self.body, Metadata=self.desired()
        )

    def update(self, current: dict[str, Any]) -> None:
        self.create()

    def delete(self) -> None:
        aws_client("s3").delete_object(Bucket=self.bucket, Key=self.key)


class S3Prefix(Resource):
    """Every object under a prefix (the lake's data, scratch files)."""

    kind = "S3 prefix"

    def __init__(self, uri: str) -> None:
        self.bucket, prefix = s3_split(uri)
        self.prefix = f"{prefix}/" if prefix else ""
        super().__init__(f"s3://{self.bucket}/{self.prefix}")

    def keys(self) -> list[str]:
        """The keys under the prefix (none if the bucket does not exist)."""
        pages = aws_client("s3").get_paginator("list_objects_v2")
        try:
            return [
                item["Key"]
                for page in pages.paginate(Bucket=self.bucket, Prefix=self.prefix)
                for item in page.get("Contents", [])
            ]
        except ClientError as error:
            if _is_not_found(error):
                return []
            raise

    def read(self) -> dict[str, Any] | None:
        count = len(self.keys())
        return {"objects": count} if count else None

    def delete(self) -> None:
        s3 = aws_client("s3")
        keys = self.keys()
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1,000 keys
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            answer = s3.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
            if errors := answer.get("Errors"):
                first = errors[0]
                raise DeployError(
                    f"{self}: {len(errors)} objects not deleted, e.g. {first['Key']}: "
                    f"{first.get('Code')}: {first.get('Message')}"
                )


class GlueDatabase(Resource):
    kind = "Glue database"

    def __init__(self, zone: str) -> None:
        super().__init__(glue_database(zone))
        self.zone = zone

    def desired(self) -> dict[str, Any]:
        return {
            "Description": f"Sakila lake, {self.zone} zone",
            # Tables go under <warehouse>/<zone>/<table>: one prefix per zone.
            "LocationUri": f"{warehouse()}/{self.zone}",
        }

    def read(self) -> dict[str, Any] | None:
        return _read(lambda: aws_client("glue").get_database(Name=self.name)["Database"])

    def create(self) -> None:
        aws_client("glue").create_database(
            DatabaseInput={"Name": self.name, **self.desired()}, Tags=_tags()
        )

    def update(self, current: dict[str, Any]) -> None:
        kept = {key: current[key] for key in ("Parameters",) if current.get(key)}
        aws_client("glue").update_database(
            Name=self.name, DatabaseInput={"Name": self.name, **kept, **self.desired()}
        )

    def delete(self) -> None:
        aws_client("glue").delete_database(Name=self.name)

    def table_locations(self) -> list[str]:
        """Where this database's tables keep their files (s3:// URIs)."""
        locations = []
        pages = aws_client("glue").get_paginator("get_tables")
        try:
            for page in pages.paginate(DatabaseName=self.name):
                for table in page.get("TableList", []):
                    location = table.get("StorageDescriptor", {}).get("Location", "")
                    if location.startswith("s3://") and s3_split(location)[1]:
                        locations.append(location.rstrip("/"))
        except ClientError as error:
            if not _is_not_found(error):
                raise
        return locations


class GlueConnection(Resource):
    kind = "Glue connection"

    def __init__(self) -> None:
        super().__init__(names.connection_name())
        self._availability_zone = ""

    def availability_zone(self) -> str:
        """GLUE_AVAILABILITY_ZONE, or the subnet's own zone when it is not set."""
        if not self._availability_zone:
            self._availability_zone = settings.GLUE_AVAILABILITY_ZONE or _subnet_zone(
                settings.GLUE_SUBNET_ID
            )
        return self._availability_zone

    def desired(self) -> dict[str, Any]:
        return {
            "Description": "Sakila rental database (RDS MySQL) for the extract job",
            "ConnectionType": "JDBC",
            "ConnectionProperties": {
                "JDBC_CONNECTION_URL": settings.GLUE_JDBC_URL,
                "SECRET_ID": settings.GLUE_JDBC_SECRET_ID,
            },
            "PhysicalConnectionRequirements": {
                "SubnetId": settings.GLUE_SUBNET_ID,
                "SecurityGroupIdList": list(settings.GLUE_SECURITY_GROUP_IDS),
                "AvailabilityZone": self.availability_zone(),
            },
        }

    def read(self) -> dict[str, Any] | None:
        return _read(
            lambda: aws_client("glue").get_connection(Name=self.name, HidePassword=True)[
                "Connection"
            ]
        )

    def create(self) -> None:
        aws_client("glue").create_connection(
            ConnectionInput={"Name": self.name, **self.desired()}, Tags=_tags()
        )

    def update(self, current: dict[str, Any]) -> None:
        aws_client("glue").update_connection(
            Name=self.name, ConnectionInput={"Name": self.name, **self.desired()}
        )

    def delete(self) -> None:
        aws_client("glue").delete_connection(ConnectionName=self.name)


class GlueJob(Resource):
    kind = "Glue job"
    exact = ("DefaultArguments",)

    def __init__(self, job: str) -> None:
        super().__init__(names.job_name(job))
        self.job = job

    def desired(self) -> dict[str, Any]:
        owned_arguments = {
            "--job-language": "python",
            "--TempDir": f"{assets_uri()}/{GLUE_TEMP_FOLDER}/",
            # Runs are incremental by the lake's own watermarks, not Glue bookmarks.
            "--job-bookmark-option": "job-bookmark-disable",
            "--enable-metrics": "true",
        }
        if _glue_version() < (5, 0):
            # Glue 5.0 logs in real time; the flag is for 4.0 and earlier.
            owned_arguments["--enable-continuous-cloudwatch-log"] = "true"
        definition = {
            "Description": f"Sakila lake: the {self.job} step of the workflow",
            "Role": settings.GLUE_ROLE_ARN,
            "Command": {
                "Name": "glueetl",
                "ScriptLocation": f"{assets_uri()}/{assets.job_script_key(self.job)}",
                "PythonVersion": "3",
            },
            "DefaultArguments": {**owned_arguments, **assets.job_arguments(self.job)},
            "GlueVersion": settings.GLUE_VERSION,
            "WorkerType": settings.GLUE_WORKER_TYPE,
            "NumberOfWorkers": settings.GLUE_WORKERS,
            "Timeout": settings.GLUE_JOB_TIMEOUT_MINUTES,
            # The app retries runs itself; one run of the workflow at a time.
            "MaxRetries": 0,
            "ExecutionProperty": {"MaxConcurrentRuns": 1},
        }
        if self.job in JOBS_WITH_CONNECTION:
            definition["Connections"] = {"Connections": [names.connection_name()]}
        return definition

    def read(self) -> dict[str, Any] | None:
        return _read(lambda: aws_client("glue").get_job(JobName=self.name)["Job"])

    def create(self) -> None:
        aws_client("glue").create_job(Name=self.name, Tags=_tags(), **self.desired())

    def update(self, current: dict[str, Any]) -> None:
        # UpdateJob resets what JobUpdate leaves out: send the whole definition.
        aws_client("glue").update_job(JobName=self.name, JobUpdate=self.desired())

    def delete(self) -> None:
        aws_client("glue").delete_job(JobName=self.name)


class GlueCrawler(Resource):
    kind = "Glue crawler"

    def __init__(self) -> None:
        super().__init__(names.crawler_name())

    def desired(self) -> dict[str, Any]:
        prefix = s3_split(warehouse())[1]
        # Tables are the folders raw/<table>/ (partitions run_id=<n> below them):
        # the table level counts path segments from the bucket (level 1).
        table_level = 1 + len([part for part in prefix.split("/") if part]) + 2
        configuration = {
            "Version": 1.0,
            "Grouping": {"TableLevelConfiguration": table_level},
            "CrawlerOutput": {"Partitions": {"AddOrUpdateBehavior": "InheritFromTable"}},
        }
        return {
            "Role": settings.GLUE_ROLE_ARN,
            "DatabaseName": glue_database("raw"),
            "Description": "Sakila lake: catalogs the raw zone after each run",
            "Targets": {
                "S3Targets": [
                    {
                        "Path": f"{warehouse()}/raw/",
                        "Exclusions": ["**/_SUCCESS", "**/_temporary/**"],
                    }
                ]
            },
            # Raw is append-only, one run_id= folder per run: crawl only the new
            # folders (a crawl of everything re-reads every run ever written).
            # Glue requires LOG for both behaviours with it ("Scheduling
            # incremental crawls for adding new partitions"): a column the rental
            # database gains reaches the raw tables by one full crawl (README).
            "SchemaChangePolicy": {"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"},
            "RecrawlPolicy": {"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"},
            "Configuration": _canonical_json(json.dumps(configuration)),
        }

    def read(self) -> dict[str, Any] | None:
        crawler = _read(lambda: aws_client("glue").get_crawler(Name=self.name)["Crawler"])
        if crawler is not None:
            crawler["Configuration"] = _canonical_json(crawler.get("Configuration"))
        return crawler

    def create(self) -> None:
        aws_client("glue").create_crawler(Name=self.name, Tags=_tags(), **self.desired())

    def update(self, current: dict[str, Any]) -> None:
        aws_client("glue").update_crawler(Name=self.name, **self.desired())

    def delete(self) -> None:
        aws_client("glue").delete_crawler(Name=self.name)


class GlueWorkflow(Resource):
    kind = "Glue workflow"

    def __init__(self) -> None:
        super().__init__(names.workflow_name())

    def desired(self) -> dict[str, Any]:
        return {
            "Description": "Sakila lake: extract, then marts, then the raw-zone crawler",
            "MaxConcurrentRuns": 1,  # the app runs one pipeline run at a time
        }

    def read(self) -> dict[str, Any] | None:
        return _read(lambda: aws_client("glue").get_workflow(Name=self.name)["Workflow"])

    def create(self) -> None:
        aws_client("glue").create_workflow(Name=self.name, Tags=_tags(), **self.desired())

    def update(self, current: dict[str, Any]) -> None:
        aws_client("glue").update_workflow(Name=self.name, **self.desired())

    def delete(self) -> None:
        aws_client("glue").delete_workflow(Name=self.name)


class GlueTrigger(Resource):
    """A step of the workflow: ON_DEMAND (the start) or CONDITIONAL (the
    previous job SUCCEEDED); a conditional trigger must be activated."""

    kind = "Glue trigger"
    immutable = ("Type", "WorkflowName")

    def __init__(self, name: str, action: dict[str, str], after_job: str | None) -> None:
        super().__init__(name)
        self.action = action
        self.after_job = after_job

    def desired(self) -> dict[str, Any]:
        target = self.action.get("JobName") or self.action.get("CrawlerName")
        trigger: dict[str, Any] = {
            "WorkflowName": names.workflow_name(),
            "Type": "CONDITIONAL" if self.after_job else "ON_DEMAND",
            "Description": f"Sakila lake: starts {target}",
            "Actions": [self.action],
        }
        if self.after_job:
            trigger["Predicate"] = {
                "Logical": "AND",
                "Conditions": [
                    {
                        "LogicalOperator": "EQUALS",
                        "JobName": names.job_name(self.after_job),
                        "State": "SUCCEEDED",
                    }
                ],
            }
            trigger["State"] = "ACTIVATED"
        return trigger

    def read(self) -> dict[str, Any] | None:
        trigger = _read(lambda: aws_client("glue").get_trigger(Name=self.name)["Trigger"])
        if trigger is not None and trigger.get("State") == "ACTIVATING":
            trigger["State"] = "ACTIVATED"  # on its way
        return trigger

    def create(self) -> None:
        desired = self.desired()
        desired.pop("State", None)
        aws_client("glue").create_trigger(
            Name=self.name, StartOnCreation=bool(self.after_job), Tags=_tags(), **desired
        )

    def update(self, current: dict[str, Any]) -> None:
        desired = self.desired()
        update = {
            key: desired[key] for key in ("Description", "Actions", "Predicate") if key in desired
        }
        aws_client("glue").update_trigger(Name=self.name, TriggerUpdate=update)
        if self.after_job and current.get("State") != "ACTIVATED":
            aws_client("glue").start_trigger(Name=self.name)

    def delete(self) -> None:
        aws_client("glue").delete_trigger(Name=self.name)


class AthenaWorkGroup(Resource):
    kind = "Athena workgroup"

    def __init__(self) -> None:
        super().__init__(settings.ATHENA_WORKGROUP)

    def _configuration(self) -> dict[str, Any]:
        return {
            "ResultConfiguration": {
                "OutputLocation": f"{settings.ATHENA_S3_STAGING_DIR.rstrip('/')}/",
                "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"},
            },
            # Queries cannot pick another result location or engine.
            "EnforceWorkGroupConfiguration": True,
            "PublishCloudWatchMetricsEnabled": True,
            "EngineVersion": {"SelectedEngineVersion": ATHENA_ENGINE},
        }

    def desired(self) -> dict[str, Any]:
        return {
            "Description": "Sakila lake reports",
            "State": "ENABLED",
            "Configuration": self._configuration(),
        }

    def read(self) -> dict[str, Any] | None:
        answer = _read(lambda: aws_client("athena").get_work_group(WorkGroup=self.name))
        # AWS answers a missing workgroup with an error, moto with no WorkGroup.
        return None if answer is None else answer.get("WorkGroup")

    def create(self) -> None:
        aws_client("athena").create_work_group(
            Name=self.name,
            Description=self.desired()["Description"],
            Configuration=self._configuration(),
            Tags=[{"Key": TAG_KEY, "Value": TAG_VALUE}],
        )

    def update(self, current: dict[str, Any]) -> None:
        configuration = self._configuration()
        aws_client("athena").update_work_group(
            WorkGroup=self.name,
            Description=self.desired()["Description"],
            State="ENABLED",
            ConfigurationUpdates={
                "ResultConfigurationUpdates": configuration["ResultConfiguration"],
                "EnforceWorkGroupConfiguration": configuration["EnforceWorkGroupConfiguration"],
                "PublishCloudWatchMetricsEnabled": configuration["PublishCloudWatchMetricsEnabled"],
                "EngineVersion": configuration["EngineVersion"],
            },
        )

    def delete(self) -> None:
        # Recursive: the workgroup's saved queries go with it (not its results).
        aws_client("athena").delete_work_group(WorkGroup=self.name, RecursiveDeleteOption=True)


# The Glue Data Catalog's maintenance of Iceberg tables (Glue developer guide,
# "Optimizing Iceberg tables"), in the order the console lists them.
OPTIMIZER_TYPES = ("compaction", "retention", "orphan_file_deletion")
OPTIMIZED_ZONES = ("staging", "marts")
ORPHAN_FILE_RETENTION_DAYS = 3  # files no snapshot names, older than this, are deleted


def optimizer_role_arn() -> str:
    return settings.GLUE_OPTIMIZER_ROLE_ARN or settings.GLUE_ROLE_ARN


def _account_id() -> str:
    """The catalog's id: the account of the optimizers' role
    (arn:aws:iam::<account>:role/...), else the caller's (``lake destroy``
    needs no role; GetCallerIdentity needs no permission)."""
    parts = optimizer_role_arn().split(":")
    if len(parts) > 5 and parts[4]:
        return parts[4]
    return aws_client("sts").get_caller_identity()["Account"]


def optimized_tables(zone: str) -> list[str]:
    """The Iceberg tables of a zone: the staged tables, or the marts."""
    if zone == "staging":
        from lake.pipeline.schemas import STAGED_MODELS, table_name

        return sorted(table_name(model) for model in STAGED_MODELS)
    from lake.core.marts import MARTS

    return sorted(mart.name for mart in MARTS)


class GlueTableOptimizer(Resource):
    """One optimizer of one Iceberg table: compaction, snapshot retention (the
    GLUE_SNAPSHOT_RETENTION_DAYS window, as the local lake keeps) or orphan
    file deletion, run by AWS as the role of docs/aws-iam-table-optimizer.json."""

    kind = "Glue optimizer"

    def __init__(self, zone: str, table: str, optimizer: str) -> None:
        super().__init__(f"{glue_database(zone)}.{table} {optimizer}")
        self.database, self.table, self.optimizer = glue_database(zone), table, optimizer

    def _key(self) -> dict[str, str]:
        return {
            "CatalogId": _account_id(),
            "DatabaseName": self.database,
            "TableName": self.table,
            "Type": self.optimizer,
        }

    def desired(self) -> dict[str, Any]:
        configuration: dict[str, Any] = {"roleArn": optimizer_role_arn(), "enabled": True}
        if self.optimizer == "retention":
            configuration["retentionConfiguration"] = {
                "icebergConfiguration": {
                    "snapshotRetentionPeriodInDays": settings.GLUE_SNAPSHOT_RETENTION_DAYS,
                    "numberOfSnapshotsToRetain": 1,
                    "cleanExpiredFiles": True,
                }
            }
        elif self.optimizer == "orphan_file_deletion":
            configuration["orphanFileDeletionConfiguration"] = {
                "icebergConfiguration": {
                    "orphanFileRetentionPeriodInDays": ORPHAN_FILE_RETENTION_DAYS
                }
            }
        return {"configuration": configuration}

    def read(self) -> dict[str, Any] | None:
        answer = _read(lambda: aws_client("glue").get_table_optimizer(**self._key()))
        return None if answer is None else answer.get("TableOptimizer")

    def create(self) -> None:
        aws_client("glue").create_table_optimizer(
            **self._key(), TableOptimizerConfiguration=self.desired()["configuration"]
        )

    def update(self, current: dict[str, Any]) -> None:
        aws_client("glue").update_table_optimizer(
            **self._key(), TableOptimizerConfiguration=self.desired()["configuration"]
        )

    def delete(self) -> None:
        aws_client("glue").delete_table_optimizer(**self._key())


def _existing_tables(database: str) -> set[str]:
    """The tables of a Glue database (none if it does not exist)."""
    names: set[str] = set()
    pages = aws_client("glue").get_paginator("get_tables")
    try:
        for page in pages.paginate(DatabaseName=database):
            names |= {table["Name"] for table in page.get("TableList", [])}
    except ClientError as error:
        if not _is_not_found(error):
            raise
    return names


def table_optimizers() -> tuple[list[GlueTableOptimizer], list[str]]:
    """The optimizers of the lake's Iceberg tables that exist, and the tables
    that do not exist yet (the first run makes them; deploy again after it)."""
    optimizers, waiting = [], []
    for zone in OPTIMIZED_ZONES:
        database = glue_database(zone)
        existing = _aws_reading(f"the tables of {database}", lambda d=database: _existing_tables(d))
        for table in optimized_tables(zone):
            if table in existing:
                optimizers += [GlueTableOptimizer(zone, table, kind) for kind in OPTIMIZER_TYPES]
            else:
                waiting.append(f"{database}.{table}")
    return optimizers, waiting


def workflow_triggers() -> list[GlueTrigger]:
    """start -> first job; each job SUCCEEDED -> the next job, the last -> the crawler."""
    steps = [{"JobName": names.job_name(job)} for job in names.GLUE_JOBS]
    steps.append({"CrawlerName": names.crawler_name()})
    prefix = settings.GLUE_NAME_PREFIX
    triggers = [GlueTrigger(f"{prefix}-start", steps[0], after_job=None)]
    for job, action in zip(names.GLUE_JOBS, steps[1:], strict=True):
        triggers.append(GlueTrigger(f"{prefix}-after-{job}", action, after_job=job))
    return triggers


def _buckets() -> list[S3Bucket]:
    uris = (warehouse(), assets_uri(), settings.ATHENA_S3_STAGING_DIR)
    return [S3Bucket(bucket) for bucket in sorted({s3_split(uri)[0] for uri in uris})]


def _asset_folders(files: dict[str, bytes]) -> list[str]:
    """The folders under GLUE_ASSETS_URI that hold only what deploy uploads."""
    return sorted({key.split("/", 1)[0] for key in files if "/" in key})


# --- plans --------------------------------------------------------------------


@dataclass
class Action:
    kind: str
    resource: Resource
    changes: list[str] = field(default_factory=list)
    note: str = ""
    run: Callable[[], None] | None = None

    def lines(self) -> list[str]:
        head = f"  {self.kind:<10} {self.resource.kind:<17} {self.resource.name}"
        if self.note:
            head += f"  ({self.note})"
        return [head, *(f"{'':14}{change}" for change in self.changes)]

    def done(self) -> str:
        return f"{PAST.get(self.kind, self.kind)} {self.resource}"


PAST = {CREATE: "created", UPDATE: "updated", REPLACE: "replaced", DELETE: "deleted"}
PENDING = {
    CREATE: "to create",
    UPDATE: "to update",
    REPLACE: "to replace",
    DELETE: "to delete",
    UNCHANGED: "unchanged",
    ABSENT: "already absent",
    KEEP: "kept",
}


@dataclass
class Plan:
    command: str  # "deploy" or "destroy"
    actions: list[Action]
    notes: list[str] = field(default_factory=list)  # printed under the plan

    @property
    def changing(self) -> list[Action]:
        return [action for action in self.actions if action.kind in CHANGING_KINDS]

    def summary(self, *, applied: bool = False) -> str:
        counts = Counter(action.kind for action in self.actions)
        words = PAST if applied else PENDING
        parts = [f"{counts[kind]} {word}" for kind, word in words.items() if counts[kind]]
        return ", ".join(parts) or "nothing"

    def render(self) -> str:
        lines = [f"lake {self.command} in {settings.AWS_REGION}:"]
        for action in self.actions:
            lines += action.lines()
        lines.append(f"Plan: {self.summary()}.")
        return "\n".join(lines + self.notes)


def _aws_reading(what: str, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except (ClientError, BotoCoreError) as error:
        raise DeployError(f"Could not read {what}: {_aws_message(error)}") from None


def _planned(resource: Resource) -> Action:
    # What the settings ask for is worked out first, so that it fails (an
    # unknown subnet...) before anything changes, even for a resource to create.
    desired = _aws_reading(str(resource), resource.desired)
    current = _aws_reading(str(resource), resource.read)
    if current is None:
        return Action(CREATE, resource, run=resource.create)
    changes = list(field_changes(desired, current, exact=resource.exact))
    if not changes:
        return Action(UNCHANGED, resource)
    if any(desired.get(name) != current.get(name) for name in resource.immutable):

        def replace() -> None:
            resource.delete()
            resource.create()

        return Action(REPLACE, resource, changes, run=replace)
    return Action(UPDATE, resource, changes, run=lambda: resource.update(current))


def _planned_removal(resource: Resource, *, keep_reason: str = "") -> Action:
    current = _aws_reading(str(resource), resource.read)
    if current is None:
        return Action(ABSENT, resource)
    count = current.get("objects")
    note = f"{count:,} object{'s' if count != 1 else ''}" if count is not None else ""
    if keep_reason:
        return Action(KEEP, resource, note="; ".join(filter(None, [note, keep_reason])))
    return Action(DELETE, resource, note=note, run=resource.delete)


def deploy_plan() -> Plan:
    """What ``lake deploy`` would change; nothing is changed."""
    _check_settings("deploy")
    files = assets.job_assets()
    resources: list[Resource] = [*_buckets()]
    resources += [S3Object(f"{assets_uri()}/{key}", body) for key, body in sorted(files.items())]
    resources += [GlueDatabase(zone) for zone in ZONES]
    optimizers, waiting = table_optimizers()
    resources += optimizers
    resources += [GlueConnection(), *(GlueJob(job) for job in names.GLUE_JOBS), GlueCrawler()]
    resources += [GlueWorkflow(), *workflow_triggers(), AthenaWorkGroup()]
    actions = [_planned(resource) for resource in resources]
    notes = []
    if waiting:
        notes.append(
            f"The table optimizers of {len(waiting)} tables wait for them ({waiting[0]}...): "
            "the first run makes the tables; run `lake deploy` again after it."
        )
    for folder in _asset_folders(files):
        uploaded = S3Prefix(f"{assets_uri()}/{folder}")
        for key in _aws_reading(str(uploaded), uploaded.keys):
            relative = key.removeprefix(s3_split(assets_uri())[1]).lstrip("/")
            if relative not in files:
                stale = S3Object(f"s3://{uploaded.bucket}/{key}")
                actions.append(Action(DELETE, stale, note="no longer uploaded", run=stale.delete))
    return Plan("deploy", actions, notes)


def _data_prefixes(databases: list[GlueDatabase]) -> list[str]:
    """Where the lake's data lives: the zones, every table's location, Athena's results."""
    uris = [f"{warehouse()}/{zone}" for zone in ZONES]
    for database in databases:
        uris += _aws_reading(f"the tables of {database}", database.table_locations)
    uris.append(settings.ATHENA_S3_STAGING_DIR.rstrip("/"))
    kept: list[str] = []
    for uri in sorted(set(uris)):  # a parent sorts before its children
        if not any(uri.startswith(f"{parent}/") for parent in kept):
            kept.append(uri)
    return kept


def destroy_plan(*, delete_data: bool = False) -> Plan:
    """What ``lake destroy`` would delete, in reverse order of creation.

    The lake's data (the Glue databases with their tables, the zones' files,
    Athena's results) is kept unless ``delete_data``; buckets are always kept.
    """
    _check_settings("destroy", for_destroy=True)
    files = assets.job_assets()
    workgroup = AthenaWorkGroup()
    actions = [
        _planned_removal(
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
    actions += [_planned_removal(resource) for resource in resources]
    actions += [_planned_removal(optimizer) for optimizer in table_optimizers()[0]]

    keep_data = "" if delete_data else "the lake's data: --delete-data deletes it"
    databases = [GlueDatabase(zone) for zone in ZONES]
    for database in databases:
        actions.append(_planned_removal(database, keep_reason=keep_data))
    for uri in _data_prefixes(databases):
        if not s3_split(uri)[1]:
            actions.append(Action(KEEP, S3Prefix(uri), note="a bucket's root is never deleted"))
        else:
            actions.append(_planned_removal(S3Prefix(uri), keep_reason=keep_data))
    actions += [Action(KEEP, bucket, note="buckets are never deleted") for bucket in _buckets()]
    return Plan("destroy", actions)


def plan_apply(plan: Plan, on_applied: Callable[[Action], None] | None = None) -> None:
    """Make the plan's changes in order; stop at the first AWS error.

    What was done stays done: running the command again finishes the rest.
    """
    changing = plan.changing
    for done, action in enumerate(changing):
        try:
            action.run()
        except ClientError as error:
            if not (action.kind == DELETE and _is_not_found(error)):  # gone meanwhile: done
                raise _apply_error(plan, action, done, _aws_message(error)) from None
        except (BotoCoreError, DeployError) as error:
            raise _apply_error(plan, action, done, str(error)) from None
        if on_applied:
            on_applied(action)


def _apply_error(plan: Plan, action: Action, done: int, message: str) -> DeployError:
    return DeployError(
        f"Could not {action.kind} {action.resource}: {message}\n"
        f"{done} of {len(plan.changing)} changes were made before it; fix the cause "
        f"and run `lake {plan.command}` again to finish."
    )
