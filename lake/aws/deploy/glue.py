"""The Glue resources of the lake: a database per zone, the JDBC connection
to the rental database, the jobs, and the crawler over the raw zone."""

import json
from typing import Any

from botocore.exceptions import ClientError
from django.conf import settings

from lake.aws import assets, names
from lake.aws.clients import aws_client, s3_split
from lake.aws.deploy.config import GLUE_TEMP_FOLDER, assets_uri, glue_database, warehouse
from lake.aws.deploy.resource import (
    DeployError,
    Resource,
    aws_message,
    is_not_found,
    managed_tags,
    read_or_none,
)

JOBS_WITH_CONNECTION = ("extract",)  # the jobs that reach the rental database


def _glue_version() -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in settings.GLUE_VERSION.split("."))
    except ValueError:
        return (0,)


def _subnet_zone(subnet_id: str) -> str:
    try:
        subnets = aws_client("ec2").describe_subnets(SubnetIds=[subnet_id])["Subnets"]
    except ClientError as error:
        raise DeployError(f"GLUE_SUBNET_ID {subnet_id}: {aws_message(error)}") from None
    return subnets[0]["AvailabilityZone"]


def _canonical_json(text: str | None) -> str | None:
    if not text:
        return text
    try:
        return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    except ValueError:
        return text


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
        return read_or_none(lambda: aws_client("glue").get_database(Name=self.name)["Database"])

    def create(self) -> None:
        aws_client("glue").create_database(
            DatabaseInput={"Name": self.name, **self.desired()}, Tags=managed_tags()
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
            if not is_not_found(error):
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
        return read_or_none(
            lambda: aws_client("glue").get_connection(Name=self.name, HidePassword=True)[
                "Connection"
            ]
        )

    def create(self) -> None:
        aws_client("glue").create_connection(
            ConnectionInput={"Name": self.name, **self.desired()}, Tags=managed_tags()
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
        return read_or_none(lambda: aws_client("glue").get_job(JobName=self.name)["Job"])

    def create(self) -> None:
        aws_client("glue").create_job(Name=self.name, Tags=managed_tags(), **self.desired())

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
            # database gains reaches the raw tables by one full crawl (docs/aws.md, Deploying).
            "SchemaChangePolicy": {"UpdateBehavior": "LOG", "DeleteBehavior": "LOG"},
            "RecrawlPolicy": {"RecrawlBehavior": "CRAWL_NEW_FOLDERS_ONLY"},
            "Configuration": _canonical_json(json.dumps(configuration)),
        }

    def read(self) -> dict[str, Any] | None:
        crawler = read_or_none(lambda: aws_client("glue").get_crawler(Name=self.name)["Crawler"])
        if crawler is not None:
            crawler["Configuration"] = _canonical_json(crawler.get("Configuration"))
        return crawler

    def create(self) -> None:
        aws_client("glue").create_crawler(Name=self.name, Tags=managed_tags(), **self.desired())

    def update(self, current: dict[str, Any]) -> None:
        aws_client("glue").update_crawler(Name=self.name, **self.desired())

    def delete(self) -> None:
        aws_client("glue").delete_crawler(Name=self.name)
