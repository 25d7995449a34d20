"""The Glue Data Catalog's optimizers of the lake's Iceberg tables: compaction,
snapshot retention and orphan file deletion, for each staged table and mart
that exists (the first run makes them)."""

from typing import Any

from botocore.exceptions import ClientError
from django.conf import settings

from lake.aws.clients import aws_client
from lake.aws.deploy.config import glue_database
from lake.aws.deploy.plan import aws_reading
from lake.aws.deploy.resource import Resource, is_not_found, read_or_none
from lake.core.marts import MARTS
from lake.pipeline.schemas import STAGED_MODELS, table_name

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
        return sorted(table_name(model) for model in STAGED_MODELS)
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
        answer = read_or_none(lambda: aws_client("glue").get_table_optimizer(**self._key()))
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
        if not is_not_found(error):
            raise
    return names


def table_optimizers() -> tuple[list[GlueTableOptimizer], list[str]]:
    """The optimizers of the lake's Iceberg tables that exist, and the tables
    that do not exist yet (the first run makes them; deploy again after it)."""
    optimizers, waiting = [], []
    for zone in OPTIMIZED_ZONES:
        database = glue_database(zone)
        existing = aws_reading(f"the tables of {database}", lambda d=database: _existing_tables(d))
        for table in optimized_tables(zone):
            if table in existing:
                optimizers += [GlueTableOptimizer(zone, table, kind) for kind in OPTIMIZER_TYPES]
            else:
                waiting.append(f"{database}.{table}")
    return optimizers, waiting
