"""The extract job: the rental database (RDS MySQL, over the Glue
connection's JDBC) into the raw zone and the staging Iceberg tables.

The same rules as the local engine (lake/pipeline/extract.py, stage.py):
each table's rows with last_update at or after its watermark less
LAKE_EXTRACT_OVERLAP_SECONDS (tables in FULLY_EXTRACTED: every row), written
raw to ``raw/<table>/run_id=<n>/``; the rows that differ from the *published*
staging snapshot are the run's changes, merged into staging by primary key
(a table read whole is replaced when it changed; a full run replaces every
table). The new watermark is the time the reads began.

Deletes: after the merge, each table not read whole has its rows counted at
the source (``SELECT COUNT(*)``) and compared with staging's count (its
snapshot summary); only when they differ are the source's primary keys read,
staging's rows without one deleted, and those rows (their old values) added
to the run's changes, so the marts drop what was built from them.

Unlike the local engine's one read transaction, each table is one JDBC
query of its own (a big table: parallel queries on ranges of its primary
key, GLUE_EXTRACT_PARTITIONS); the overlap window covers a change committed
between them.
Every step reads back what it wrote, so a query runs once and a rerun of the
run writes the same files and merges the same rows again.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from lake.glue_jobs import iceberg
from lake.glue_jobs.sql import (
    KEY_RANGE_SCHEMA,
    TableNames,
    cast_expressions,
    changed_rows_sql,
    count_query,
    deleted_rows_sql,
    jdbc_custom_schema,
    jdbc_query,
    jdbc_read_options,
    jdbc_url,
    key_range_query,
    keys_query,
    partition_key,
)
from lake.glue_jobs.tables import StagedTable, ddl_schema
from lake.glue_jobs.workflow import RunProperties, changes_uri, deleted_uri, raw_uri

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

MYSQL_DRIVER = "com.mysql.cj.jdbc.Driver"  # Glue's (MySQL Connector/J)
# Spark 3.5 pads CHAR(n) values to n characters when it reads them (JDBC
# included); MySQL strips the padding, and so must the lake: 'English', not
# 'English' and 13 spaces.
SPARK_SETTINGS = {"spark.sql.readSideCharPadding": "false"}


@dataclass(frozen=True)
class JobSettings:
    warehouse: str  # LAKE_WAREHOUSE (s3://...)
    names: TableNames  # the lake's tables in the jobs' Spark catalog
    time_zone: str  # the site's TIME_ZONE: last_update holds naive times in it
    overlap_seconds: int  # LAKE_EXTRACT_OVERLAP_SECONDS
    batch_rows: int  # LAKE_EXTRACT_BATCH_ROWS: the JDBC fetch size
    read_partitions: int = 1  # GLUE_EXTRACT_PARTITIONS: parallel reads of a big table
    partition_rows: int = 100_000  # GLUE_EXTRACT_PARTITION_ROWS: what makes a table big


@dataclass(frozen=True)
class TableExtract:
    table: str
    rows_read: int
    rows_changed: int  # new, changed or deleted
    rows_deleted: int = 0  # of those, deleted at the source


@dataclass(frozen=True)
class RunExtract:
    watermarks: dict[str, datetime]  # table -> read from here next time
    tables: list[TableExtract]


def jdbc_login(connection: Mapping[str, str], name: str) -> dict[str, str]:
    """URL (with the database: Glue's "fullUrl"), user, password and driver
    from ``GlueContext.extract_jdbc_conf(name)``."""
    url = connection.get("fullUrl") or connection.get("url")
    if not url or "user" not in connection or "password" not in connection:
        raise ValueError(
            f"Glue connection {name!r} has no JDBC URL, user and password: it must be a "
            "JDBC connection to the rental database (lake deploy creates it)"
        )
    return {
        "url": url,
        "user": connection["user"],
        "password": connection["password"],
        "driver": MYSQL_DRIVER,
    }


def read_time(time_zone: str) -> datetime:
    """Now, as a naive time in the site's time zone (how last_update is kept)."""
    return datetime.now(ZoneInfo(time_zone)).replace(tzinfo=None)


def extract_starts(
    tables: list[StagedTable], run: RunProperties, overlap_seconds: int
) -> dict[str, datetime | None]:
    """Per table, the last_update to read from; None: every row."""
    starts = {}
    for table in tables:
        watermark = run.watermarks_from.get(table.name)
        if run.full or table.fully_extracted or watermark is None:
            starts[table.name] = None
        else:
            starts[table.name] = watermark - timedelta(seconds=overlap_seconds)
    return starts


def extract_run(
    spark: "SparkSession",
    tables: list[StagedTable],
    run: RunProperties,
    jdbc: Mapping[str, str],
    settings: JobSettings,
) -> RunExtract:
    """Extract and stage every table. ``jdbc``: url, user, password and driver
    (``JobRuntime.jdbc_login``)."""
    for name, value in SPARK_SETTINGS.items():
        spark.conf.set(name, value)
    read_at = read_time(settings.time_zone)
    starts = extract_starts(tables, run, settings.overlap_seconds)
    results = [
        extract_table(spark, table, starts[table.name], run, jdbc, settings) for table in tables
    ]
    return RunExtract({table.name: read_at for table in tables}, results)


def extract_table(
    spark: "SparkSession",
    table: StagedTable,
    since: datetime | None,
    run: RunProperties,
    jdbc: Mapping[str, str],
    settings: JobSettings,
) -> TableExtract:
    raw = raw_uri(settings.warehouse, table.name, run.run_id)
    source = read_source(spark, table, since, jdbc, settings)
    extracted = _write_and_read(source.selectExpr(*cast_expressions(table.columns)), raw, table)
    rows_read = extracted.count()
    if not rows_read:  # as locally: an empty read leaves no raw partition
        _delete(spark, raw)
        extracted = spark.createDataFrame([], ddl_schema(table.columns))
    extracted.createOrReplaceTempView(f"extracted_{table.name}")

    identifier = iceberg.ensure_table(
        spark, settings.names, "staging", table.name, table.columns, table.month_partition
    )
    if run.full:
        iceberg.replace_all(extracted, identifier)
        return TableExtract(table.name, rows_read, rows_read)
    rows_changed = 0
    if table.fully_extracted or rows_read:  # else nothing read, nothing to merge
        rows_changed = merge_changes(spark, table, identifier, run, settings.warehouse)
    if table.fully_extracted:  # replaced by what was read: its removed rows are changes already
        return TableExtract(table.name, rows_read, rows_changed)
    database = JdbcSource(spark, jdbc, settings)
    at = deleted_uri(settings.warehouse, table.name, run.run_id)
    rows_deleted = remove_deleted(spark, table, identifier, database, at)
    return TableExtract(table.name, rows_read, rows_changed + rows_deleted, rows_deleted)


def merge_changes(
    spark: "SparkSession", table: StagedTable, identifier: str, run: RunProperties, warehouse: str
) -> int:
    """The view ``extracted_<table>``'s rows that differ from the published
    staging, written for the marts job and merged into staging; how many."""
    published = run.published_snapshots.get(f"staging.{table.name}")
    iceberg.at_snapshot(spark, identifier, table.columns, published).createOrReplaceTempView(
        f"published_{table.name}"
    )
    changes = spark.sql(
        changed_rows_sql(
            table,
            f"extracted_{table.name}",
            f"published_{table.name}",
            removed_too=table.fully_extracted,
        )
    )
    changes_at = changes_uri(warehouse, table.name, run.run_id)
    changed = _write_and_read(changes, changes_at, table)
    rows_changed = changed.count()
    if rows_changed:
        if table.fully_extracted:  # rows added or removed: the table is what was read
            iceberg.replace_all(spark.table(f"extracted_{table.name}"), identifier)
        else:
            changed.createOrReplaceTempView(f"changed_{table.name}")
            iceberg.upsert(
                spark, identifier, f"changed_{table.name}", table.primary_key, table.column_names
            )
    return rows_changed


# --- Rows deleted at the source ---------------------------------------------------------------


class SourceReader(Protocol):
    """Runs a query on the rental database (``JdbcSource`` on Glue)."""

    def count(self, query: str) -> int: ...

    def read(self, query: str) -> "DataFrame": ...


class JdbcSource:
    def __init__(
        self, spark: "SparkSession", jdbc: Mapping[str, str], settings: JobSettings
    ) -> None:
        self.spark, self.jdbc, self.settings = spark, jdbc, settings

    def count(self, query: str) -> int:
        return int(self.read(query).first()[0])

    def read(self, query: str) -> "DataFrame":
        return _jdbc_reader(self.spark, self.jdbc, self.settings).option("query", query).load()


def remove_deleted(
    spark: "SparkSession",
    table: StagedTable,
    identifier: str,
    source: SourceReader,
    deleted_at: str,
) -> int:
    """Delete from staging (after the run's merge) its rows deleted at the
    source; they are recorded at ``deleted_at`` for the marts job. How many."""
    staged_rows = iceberg.row_count(spark, identifier)
    deleted = find_deleted(spark, table, spark.table(identifier), staged_rows, source, deleted_at)
    if deleted is None:
        return 0
    deleted.createOrReplaceTempView(f"deleted_{table.name}")
    iceberg.delete_rows(spark, identifier, table, f"deleted_{table.name}")
    return deleted.count()


def find_deleted(
    spark: "SparkSession",
    table: StagedTable,
    staged: "DataFrame",
    staged_rows: int,
    source: SourceReader,
    deleted_at: str,
) -> "DataFrame | None":
    """The run's rows of ``table`` deleted at the source, with their staged
    values; None: none.

    A deleted row leaves no last_update to extract: only when the source's
    row count differs from ``staged_rows`` (what ``staged`` holds) are its
    keys read, and ``staged``'s rows without one are appended at
    ``deleted_at``. What an earlier attempt of the run recorded there stays:
    those rows may have left staging already, and a rerun must report them
    again. The keys are read after the rows: a row deleted since goes a run
    early, one added since is not in staging yet either way (as locally).
    """
    recorded = _read_if_exists(spark, deleted_at, table)
    if source.count(count_query(table)) != staged_rows:
        staged.createOrReplaceTempView(f"staged_{table.name}")
        source.read(keys_query(table)).createOrReplaceTempView(f"source_keys_{table.name}")
        if recorded is None:
            recorded = spark.createDataFrame([], ddl_schema(table.columns))
        recorded.createOrReplaceTempView(f"recorded_{table.name}")
        found = spark.sql(
            deleted_rows_sql(
                table, f"staged_{table.name}", f"source_keys_{table.name}",
                f"recorded_{table.name}",
            )
        )  # fmt: skip
        found = found.selectExpr(*cast_expressions(table.columns)).cache()  # one read of the keys
        if not found.isEmpty():  # nothing new: no file, so a rerun writes what the run wrote
            # Appended, not replaced: the earlier attempt's file is still being read.
            found.write.mode("append").parquet(deleted_at)
            recorded = _read_if_exists(spark, deleted_at, table)
        found.unpersist()
    if recorded is None or recorded.isEmpty():
        return None
    return recorded


def read_source(
    spark: "SparkSession",
    table: StagedTable,
    since: datetime | None,
    jdbc: Mapping[str, str],
    settings: JobSettings,
) -> "DataFrame":
    """The rows to extract, over JDBC: a table whose read holds at least
    ``partition_rows`` rows is read in ``read_partitions`` parallel queries on
    ranges of its integer primary key (one more small query finds the range),
    so that every worker reads; others in one query."""
    query = jdbc_query(table, since)
    key_range: tuple[int | None, int | None, int] = (None, None, 0)
    if (key := partition_key(table)) is not None and settings.read_partitions > 1:
        reader = _jdbc_reader(spark, jdbc, settings).option("query", key_range_query(query, key))
        reader = reader.option("customSchema", KEY_RANGE_SCHEMA)
        low, high, rows = reader.load().first()
        key_range = (low, high, rows or 0)
    options = jdbc_read_options(
        query, key, key_range, settings.read_partitions, settings.partition_rows
    )
    if (custom := jdbc_custom_schema(table, jdbc["url"])) is not None:
        options["customSchema"] = custom
    return _jdbc_reader(spark, jdbc, settings).options(**options).load()


def _jdbc_reader(spark: "SparkSession", jdbc: Mapping[str, str], settings: JobSettings):
    return (
        spark.read.format("jdbc")
        .option("driver", jdbc["driver"])
        .option("url", jdbc_url(jdbc["url"]))
        .option("user", jdbc["user"])
        .option("password", jdbc["password"])
        .option("fetchsize", str(settings.batch_rows))
        .option("preferTimestampNTZ", "true")
    )


def _write_and_read(frame: "DataFrame", uri: str, table: StagedTable) -> "DataFrame":
    """Write Parquet (replacing a previous attempt's) and read it back."""
    frame.write.mode("overwrite").parquet(uri)
    return frame.sparkSession.read.schema(ddl_schema(table.columns)).parquet(uri)


def _read_if_exists(spark: "SparkSession", uri: str, table: StagedTable) -> "DataFrame | None":
    if not _exists(spark, uri):
        return None
    return spark.read.schema(ddl_schema(table.columns)).parquet(uri)


def _exists(spark: "SparkSession", uri: str) -> bool:
    filesystem, path = _hadoop_path(spark, uri)
    return filesystem.exists(path)


def _delete(spark: "SparkSession", uri: str) -> None:
    filesystem, path = _hadoop_path(spark, uri)
    filesystem.delete(path, True)


def _hadoop_path(spark: "SparkSession", uri: str):
    """The Hadoop filesystem of ``uri`` (S3 on Glue) and the path in it."""
    path = spark.sparkContext._jvm.org.apache.hadoop.fs.Path(uri)
    return path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), path
