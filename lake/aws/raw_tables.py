"""The raw zone as the Glue crawler catalogs it, for the control panel.

With ``LAKE_ENGINE=glue`` the crawler that runs after the jobs writes its
tables to ``<GLUE_DATABASE>_raw``, not to the local crawler's records. Its
tables are read here into the same shape, unsaved ``CrawledTable`` rows: the
columns, the ``run_id=<n>`` partitions, and a schema version that counts the
column changes among the table's Glue versions (a crawl that only adds
partitions makes a Glue version too, not a schema version).
"""

from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError
from django.utils import timezone

from lake.aws.clients import aws_client
from lake.catalog import CatalogUnavailable, catalog_namespace
from lake.models import CrawledTable

ERROR_UNREADABLE = "Could not read the Glue database {database}: {reason}"


def glue_raw_tables(*, name: str | None = None) -> list[CrawledTable]:
    """The crawled tables, by name (only ``name`` if given); none before the
    first crawl."""
    database = catalog_namespace("raw")
    glue = aws_client("glue")
    try:
        if name is not None:
            found = [glue.get_table(DatabaseName=database, Name=name)["Table"]]
        else:
            pages = glue.get_paginator("get_tables").paginate(DatabaseName=database)
            found = [table for page in pages for table in page["TableList"]]
        return [_crawled(glue, database, table) for table in sorted(found, key=_name)]
    except ClientError as error:
        if error.response["Error"]["Code"] == "EntityNotFoundException":
            return []  # no crawl yet (or no such table)
        raise CatalogUnavailable(
            ERROR_UNREADABLE.format(database=database, reason=_reason(error))
        ) from error
    except BotoCoreError as error:
        raise CatalogUnavailable(
            ERROR_UNREADABLE.format(database=database, reason=error)
        ) from error


def _name(table: dict) -> str:
    return table["Name"]


def _reason(error: ClientError) -> str:
    details = error.response["Error"]
    return f"{details.get('Code')}: {details.get('Message')}"


def _crawled(glue, database: str, table: dict) -> CrawledTable:
    versions = [
        version["Table"]
        for page in glue.get_paginator("get_table_versions").paginate(
            DatabaseName=database, TableName=table["Name"]
        )
        for version in page["TableVersions"]
    ]
    versions.sort(key=lambda version: int(version.get("VersionId") or 0))
    changes, previous = [], None
    for version in versions or [table]:
        columns = _columns(version)
        if previous is not None and columns != previous:
            at = _naive(version.get("UpdateTime") or version.get("CreateTime"))
            changes.append(
                {
                    "version": len(changes) + 2,
                    "added": [column for column in columns if column not in previous],
                    "at": at.isoformat() if at else "",
                }
            )
        previous = columns
    partitions = [
        "/".join(
            f"{key['Name']}={value}"
            for key, value in zip(table.get("PartitionKeys", []), partition["Values"], strict=False)
        )
        for page in glue.get_paginator("get_partitions").paginate(
            DatabaseName=database, TableName=table["Name"], ExcludeColumnSchema=True
        )
        for partition in page["Partitions"]
    ]
    return CrawledTable(
        name=table["Name"],
        location=table.get("StorageDescriptor", {}).get("Location", ""),
        columns=_columns(table),
        partitions=sorted(partitions, key=_partition_order),
        schema_version=len(changes) + 1,
        schema_changes=changes,
        first_crawled_at=_naive(table.get("CreateTime")),
        last_crawled_at=_naive(table.get("UpdateTime") or table.get("CreateTime")),
    )


def _columns(table: dict) -> list[dict]:
    return [
        {"name": column["Name"], "type": column["Type"]}
        for column in table.get("StorageDescriptor", {}).get("Columns", [])
    ]


def _partition_order(partition: str) -> tuple[int, str]:
    # run_id=9 before run_id=10
    value = partition.rpartition("=")[2]
    return (int(value), partition) if value.isdigit() else (0, partition)


def _naive(moment: datetime | None) -> datetime | None:
    """Glue's aware times as the app's naive local times (USE_TZ is off)."""
    if moment is None or timezone.is_naive(moment):
        return moment
    return timezone.make_naive(moment, timezone.get_default_timezone())
