"""Raw zone retention on AWS (``LAKE_ENGINE=glue``): the increments of the runs
time travel no longer reaches are deleted from S3, and their partitions from
the Glue Data Catalog, by the maintenance run's "raw retention" step.

Why the maintenance run and not an S3 lifecycle rule on ``raw/``:

- a lifecycle rule ages objects by their upload date, not by which runs are
  still readable: the published run stays readable however old it is (no
  run for weeks), and a rule would delete its increment all the same;
- a rule deletes objects only. The raw crawler recrawls new folders only and
  logs deletions (``DeleteBehavior: LOG``), so the catalog would go on
  listing partitions without files, for Athena to plan and scan for nothing.

So the same runs go as on the local engine (those before the oldest run time
travel still reaches), catalog first (a query planned after that no longer
looks at the folder), then the files. Each side is listed on its own at every
maintenance, so what an interrupted one left behind goes the next time.

AWS requests (docs/aws.md, "What it costs"): S3 ListObjectsV2 once for the tables
and once per table (per 1,000 of its files), DeleteObjects once per table
(per 1,000 deleted files); Glue GetTables once, GetPartitions once per raw
table (per 1,000 partitions), BatchDeletePartition once per 25 deleted
partitions.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from lake.aws.clients import aws_client, s3_split
from lake.catalog import catalog_namespace, warehouse_uri
from lake.models import CrawledTable
from lake.pipeline.crawl import run_number
from lake.pipeline.raw_retention import RawRetention

PARTITION_KEY = "run_id"
DELETE_OBJECTS_MAX = 1000  # S3 DeleteObjects takes at most 1,000 keys
DELETE_PARTITIONS_MAX = 25  # Glue BatchDeletePartition takes at most 25 partitions


class RawRetentionError(Exception):
    """S3 or Glue refused to delete part of what retention deletes."""


@dataclass
class GlueRawRetention(RawRetention):
    catalog_partitions_removed: int = 0  # partitions the Glue Data Catalog forgot

    def summary(self, *, planned: bool = False) -> str:
        verb = "would forget" if planned else "forgot"
        return (
            f"{super().summary(planned=planned)}; {verb} "
            f"{self.catalog_partitions_removed} partitions in the Glue Data Catalog"
        )


def glue_raw_retention(before_run: int, *, dry_run: bool) -> GlueRawRetention:
    """Delete the raw partitions (``run_id=<n>`` with n < ``before_run``): from
    the Glue Data Catalog, from S3, and from the saved crawled tables."""
    result = GlueRawRetention()
    forgotten = _catalog_partitions_delete(before_run, dry_run=dry_run)
    result.catalog_partitions_removed = sum(len(values) for values in forgotten.values())
    bucket, raw = _raw_prefix()
    s3 = aws_client("s3")
    removed: dict[str, set[str]] = {}
    for table in list(_folders(bucket, raw)):
        keys, folders = [], set()
        for item, folder in _old_objects(bucket, f"{raw}{table}/", before_run):
            keys.append(item["Key"])
            folders.add(folder)
            result.bytes_removed += item.get("Size", 0)
        result.files_removed += len(keys)
        result.partitions_removed += len(folders)
        if folders:
            removed.setdefault(table, set()).update(folders)
        if keys and not dry_run:
            _delete_objects(s3, bucket, keys)
    for table, values in forgotten.items():
        removed.setdefault(table, set()).update(f"{PARTITION_KEY}={v}" for v in values)
    if not dry_run:
        _crawled_tables_forget(removed)
    return result


def _raw_prefix() -> tuple[str, str]:
    """The warehouse bucket and the key prefix of the raw zone ("lake/raw/")."""
    bucket, prefix = s3_split(warehouse_uri())
    return bucket, f"{prefix}/raw/" if prefix else "raw/"


def _folders(bucket: str, prefix: str) -> Iterator[str]:
    """The names of the "folders" right under ``prefix`` (which ends with /)."""
    pages = aws_client("s3").get_paginator("list_objects_v2")
    for page in pages.paginate(Bucket=bucket, Prefix=prefix, Delimiter="/"):
        for common in page.get("CommonPrefixes", []):
            yield common["Prefix"].removeprefix(prefix).rstrip("/")


def _old_objects(bucket: str, table: str, before_run: int) -> Iterator[tuple[dict, str]]:
    """(object, "run_id=<n>") of every file of the table (its prefix) written
    by a run before ``before_run``: one listing of the table, 1,000 a request
    (a listing per folder would cost a request per folder)."""
    pages = aws_client("s3").get_paginator("list_objects_v2")
    for page in pages.paginate(Bucket=bucket, Prefix=table):
        for item in page.get("Contents", []):
            folder = item["Key"].removeprefix(table).partition("/")[0]
            name, _, _ = folder.partition("=")
            number = run_number(folder)
            if name == PARTITION_KEY and number and number < before_run:
                yield item, folder


def _delete_objects(s3, bucket: str, keys: list[str]) -> None:
    for start in range(0, len(keys), DELETE_OBJECTS_MAX):
        batch = keys[start : start + DELETE_OBJECTS_MAX]
        answer = s3.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
        )
        if errors := answer.get("Errors"):
            first = errors[0]
            raise RawRetentionError(
                f"S3 did not delete {len(errors)} raw files, "
                f"{first.get('Key')}: {first.get('Code')} {first.get('Message')}"
            )


def _catalog_partitions_delete(before_run: int, *, dry_run: bool) -> dict[str, list[str]]:
    """Delete the catalog's raw partitions of runs before ``before_run``:
    {table: [run_id values]} of those deleted (or that would be)."""
    glue = aws_client("glue")
    database = catalog_namespace("raw")
    try:
        pages = glue.get_paginator("get_tables").paginate(DatabaseName=database)
        tables = [table for page in pages for table in page["TableList"]]
    except glue.exceptions.EntityNotFoundException:
        return {}  # nothing crawled yet
    deleted: dict[str, list[str]] = {}
    for table in tables:
        keys = [key["Name"] for key in table.get("PartitionKeys", [])]
        if keys != [PARTITION_KEY]:
            continue  # not a raw table of ours
        pages = glue.get_paginator("get_partitions").paginate(
            DatabaseName=database, TableName=table["Name"], ExcludeColumnSchema=True
        )
        old = [
            partition["Values"][0]
            for page in pages
            for partition in page["Partitions"]
            if partition["Values"][0].isdigit() and int(partition["Values"][0]) < before_run
        ]
        if not old:
            continue
        deleted[table["Name"]] = old
        if dry_run:
            continue
        for start in range(0, len(old), DELETE_PARTITIONS_MAX):
            batch = old[start : start + DELETE_PARTITIONS_MAX]
            answer = glue.batch_delete_partition(
                DatabaseName=database,
                TableName=table["Name"],
                PartitionsToDelete=[{"Values": [value]} for value in batch],
            )
            if errors := answer.get("Errors"):
                detail = errors[0].get("ErrorDetail", {})
                raise RawRetentionError(
                    f"Glue did not delete {len(errors)} partitions of "
                    f"{database}.{table['Name']}: {detail.get('ErrorCode')} "
                    f"{detail.get('ErrorMessage')}"
                )
    return deleted


def _crawled_tables_forget(removed: dict[str, set[str]]) -> None:
    """Saved crawled tables (the local crawler's records, kept if the lake
    moved to AWS) forget the deleted partitions too."""
    for crawled in CrawledTable.objects.filter(name__in=removed):
        kept = [p for p in crawled.partitions if p not in removed[crawled.name]]
        if kept != crawled.partitions:
            crawled.partitions = kept
            crawled.save(update_fields=["partitions"])
