"""Writing the lake's Iceberg tables from Spark (the catalog ``TableNames`` names).

Every write is one Iceberg commit; the SQL comes from ``lake.glue_jobs.sql``.
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING

from lake.core.marts import MARTS
from lake.glue_jobs.sql import (
    TableNames,
    create_namespace_sql,
    create_table_sql,
    delete_rows_sql,
    drop_columns_sql,
    replace_keys_sql,
    row_count_sql,
    set_current_snapshot_sql,
    snapshot_sql,
    upsert_sql,
)
from lake.glue_jobs.tables import StagedTable, ddl_schema
from lake.glue_jobs.workflow import RunProperties

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def ensure_table(
    spark: "SparkSession",
    names: TableNames,
    zone: str,
    name: str,
    columns: Sequence[tuple[str, str]],
    month_partition: str | None = None,
) -> str:
    """The table's identifier, the table created (and its namespace) if missing."""
    spark.sql(create_namespace_sql(names, zone))
    identifier = names.identifier(zone, name)
    spark.sql(create_table_sql(identifier, columns, month_partition))
    names = [name for name, _ in columns]
    if (drop := drop_columns_sql(identifier, spark.table(identifier).columns, names)) is not None:
        spark.sql(drop)  # a table made before those columns were left out of the lake
    return identifier


def table_or_none(spark: "SparkSession", identifier: str) -> "DataFrame | None":
    """The table's current rows, None if it does not exist."""
    from pyspark.errors import AnalysisException

    try:
        return spark.table(identifier)
    except AnalysisException:
        return None


def at_snapshot(
    spark: "SparkSession",
    identifier: str,
    columns: Sequence[tuple[str, str]],
    snapshot_id: int | None,
) -> "DataFrame":
    """The table at a snapshot; empty for None (nothing published yet)."""
    if snapshot_id is None:
        return spark.createDataFrame([], ddl_schema(columns))
    return spark.sql(snapshot_sql(identifier, [name for name, _ in columns], snapshot_id))


def replace_all(frame: "DataFrame", identifier: str) -> None:
    """The table's rows become ``frame``'s: rows no longer there go (a full run)."""
    from pyspark.sql.functions import lit

    frame.writeTo(identifier).overwrite(lit(True))


def append(frame: "DataFrame", identifier: str) -> None:
    frame.writeTo(identifier).append()


def upsert(
    spark: "SparkSession", identifier: str, source: str, keys: Sequence[str], columns: Sequence[str]
) -> None:
    """Merge the rows of the view ``source`` into the table by primary key."""
    spark.sql(upsert_sql(identifier, source, keys, columns))


def row_count(spark: "SparkSession", identifier: str) -> int:
    """The table's rows now, from its current snapshot's summary (0: no snapshot yet)."""
    found = spark.sql(row_count_sql(identifier)).first()
    return int(found[0] or 0) if found is not None else 0


def delete_rows(spark: "SparkSession", identifier: str, table: StagedTable, source: str) -> None:
    """Delete the rows of the view ``source`` from the table (those still in it, unchanged)."""
    spark.sql(delete_rows_sql(identifier, table, source))


def replace_keys(
    spark: "SparkSession",
    identifier: str,
    *,
    rows: str,
    keys: str,
    key: str,
    grain: Sequence[str],
    columns: Sequence[str],
) -> None:
    """Replace the table's rows for the keys in the view ``keys`` with the view ``rows``."""
    spark.sql(replace_keys_sql(identifier, rows, keys, key, grain, columns))


def marts_reset_to_published(spark: "SparkSession", names: TableNames, run: RunProperties) -> None:
    """Put back each mart a run wrote without publishing (it failed, or its
    checks did) to its published snapshot: a run builds on what readers see."""
    for mart in MARTS:
        published = run.published_snapshots.get(mart.identifier)
        identifier = names.identifier("marts", mart.name)
        if published is None or table_or_none(spark, identifier) is None:
            continue
        current = spark.sql(
            f"SELECT snapshot_id FROM {identifier}.refs WHERE name = 'main'"
        ).first()
        if current is not None and current[0] != published:
            spark.sql(set_current_snapshot_sql(names, "marts", mart.name, published))
