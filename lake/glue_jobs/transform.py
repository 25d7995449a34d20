"""The marts on Spark: the same keys SQL and mart SQL as the local engine
(lake/pipeline/transform.py), rendered for Spark, with the same rules.

Given views ``staging_<table>`` (staging as the extract left it) and
``changed_<table>`` (the run's changed rows; staging itself in a full run),
each mart's keys SQL picks the keys to rebuild and its SQL builds their rows.
A mart whose keys SQL reads only empty ``changed_`` views is skipped; keys
several marts share (``address_keys``) are computed once. This module
imports PySpark only where it runs Spark, so that it imports anywhere.
"""

import re
from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from typing import TYPE_CHECKING

import pyarrow as pa

from lake.core.dates import days_sql, dim_date_additions, dim_date_rows
from lake.core.marts import DIM_DATE, RUN_CLOCK, SQL_MARTS, Mart
from lake.glue_jobs import iceberg
from lake.glue_jobs.sql import TableNames, cast_expressions
from lake.glue_jobs.tables import StagedTable, ddl_schema, spark_columns
from lake.glue_jobs.workflow import RunProperties, changes_uri, deleted_uri

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

SPARK_SQL_DIR = "spark_sql"  # in the job library: keys/*.sql and marts/*.sql, rendered for Spark
# Marts with several rows per key: their merge identifies a row by these columns.
GRAIN = {"bridge_film_actor": ("film_id", "actor_id")}


def mart_grain(mart: Mart) -> tuple[str, ...]:
    return GRAIN.get(mart.name, (mart.key,))


def spark_sql_files() -> dict[str, str]:
    """The job library's rendered SQL, keyed "keys/<name>_keys.sql" and "marts/<name>.sql"."""
    root = files(__package__).joinpath(SPARK_SQL_DIR)
    if not root.is_dir():
        raise FileNotFoundError(
            f"{SPARK_SQL_DIR}/ is missing: lake deploy renders it into the job library "
            "(lake/aws/assets.py); outside Glue, pass the rendered SQL"
        )
    return {
        f"{folder}/{path.name}": path.read_text()
        for folder in ("keys", "marts")
        for path in root.joinpath(folder).iterdir()
        if path.name.endswith(".sql")
    }


def register_sources(
    spark: "SparkSession",
    tables: list[StagedTable],
    staging: Mapping[str, "DataFrame"],
    changed: Mapping[str, "DataFrame"] | None,
) -> None:
    """Views ``staging_<t>`` and ``changed_<t>`` for every staged table; a
    table missing from a mapping is empty. ``changed`` None: a full run, in
    which every row counts as changed."""
    for table in tables:
        empty = spark.createDataFrame([], ddl_schema(table.columns))
        staged = staging.get(table.name)
        (empty if staged is None else staged).createOrReplaceTempView(f"staging_{table.name}")
        if changed is None:
            spark.table(f"staging_{table.name}").createOrReplaceTempView(f"changed_{table.name}")
        else:
            rows = changed.get(table.name)
            (empty if rows is None else rows).createOrReplaceTempView(f"changed_{table.name}")


def register_clock_and_marts(
    spark: "SparkSession", names: TableNames, as_of: datetime, sql: Mapping[str, str]
) -> None:
    """``run_clock`` (the time fees of open rentals accrue to) and, for each
    ``mart_<name>`` the SQL reads, that mart as it stands before the run."""
    arrow_frame(spark, pa.table({"as_of": [as_of]}, schema=RUN_CLOCK)).createOrReplaceTempView(
        "run_clock"
    )
    read = {name for text in sql.values() for name in re.findall(r"\bmart_(\w+)", text)}
    for mart in SQL_MARTS:
        if mart.name in read:
            frame = iceberg.table_or_none(spark, names.identifier("marts", mart.name))
            if frame is None:
                frame = spark.createDataFrame([], ddl_schema(spark_columns(mart.schema)))
            frame.createOrReplaceTempView(f"mart_{mart.name}")


def arrow_frame(spark: "SparkSession", rows: pa.Table) -> "DataFrame":
    """An Arrow table (dim_date's rows) as a Spark frame in the same types."""
    records = [tuple(row.values()) for row in rows.to_pylist()]
    return spark.createDataFrame(records, ddl_schema(spark_columns(rows.schema)))


@dataclass
class MartBuild:
    mart: Mart
    keys: "DataFrame"  # the rebuilt keys (cached; view <mart>_keys)
    rows: "DataFrame"  # their rows, in the mart's columns and types (cached; view <mart>_rows)
    rows_built: int


class SparkTransform:
    """Builds the marts' rows from the ``staging_``/``changed_`` views."""

    def __init__(
        self,
        spark: "SparkSession",
        sql: Mapping[str, str],
        *,
        full: bool,
        deleted: Set[str] = frozenset(),
    ) -> None:
        self.spark = spark
        self.sql = sql
        self.full = full
        self.deleted = deleted  # tables whose changed rows include rows deleted at the source
        self.registered_keys: set[str] = set()
        self.empty: dict[str, bool] = {}
        self.cached: list[DataFrame] = []

    def __enter__(self) -> "SparkTransform":
        return self

    def __exit__(self, *exc_info) -> None:
        for frame in self.cached:
            frame.unpersist()

    def keys_sql(self, mart: Mart) -> str:
        return self.sql[f"keys/{mart.name}_keys.sql"]

    def mart_sql(self, mart: Mart) -> str:
        return self.sql[f"marts/{mart.name}.sql"]

    def _shared_keys_sql(self, name: str) -> str | None:
        return self.sql.get(f"keys/{name}_keys.sql")

    def _materialize(self, frame: "DataFrame", view: str) -> tuple["DataFrame", int]:
        """Compute once (the frame is read again by later queries and the write)."""
        frame = frame.cache()
        self.cached.append(frame)
        frame.createOrReplaceTempView(view)
        return frame, frame.count()

    def query(self, sql: str) -> "DataFrame":
        for name in set(re.findall(r"\b(\w+)_keys\b", sql)) - self.registered_keys:
            if (shared := self._shared_keys_sql(name)) is not None:
                self._materialize(self.query(shared), f"{name}_keys")
                self.registered_keys.add(name)
        return self.spark.sql(sql)

    def nothing_changed_for(self, sql: str) -> bool:
        """Whether every changed_<table> the SQL reads (itself or through
        shared keys such as address_keys) is empty."""
        for name in re.findall(r"\b(\w+)_keys\b", sql):
            if (shared := self._shared_keys_sql(name)) is not None:
                sql += "\n" + shared
        for name in sorted(set(re.findall(r"\bchanged_(\w+)", sql))):
            if name not in self.empty:
                self.empty[name] = self.spark.table(f"changed_{name}").isEmpty()
            if not self.empty[name]:
                return False
        return True

    def build_mart(self, mart: Mart) -> MartBuild | None:
        """The mart's rebuilt keys and their rows; None when nothing is to be rebuilt."""
        keys_sql = self.keys_sql(mart)
        # Keys that read the clock can change with no row changed (fees accrue).
        timely = "run_clock" in keys_sql
        if not self.full and not timely and self.nothing_changed_for(keys_sql):
            return None
        keys, key_count = self._materialize(self.query(keys_sql), f"{mart.name}_keys")
        self.registered_keys.add(mart.name)
        if not self.full and not key_count:
            return None
        built = self.query(self.mart_sql(mart))
        conformed = built.selectExpr(*cast_expressions(spark_columns(mart.schema)))
        rows, row_count = self._materialize(conformed, f"{mart.name}_rows")
        return MartBuild(mart, keys, rows, row_count)

    @property
    def rebuilds_dim_date(self) -> bool:
        """Whether dim_date is rewritten whole: in a full run, and when rentals or
        payments were deleted (the range of days may shrink), as locally."""
        return self.full or bool({"rental", "payment"} & set(self.deleted))

    def dim_date_rows(self, existing_ids: Callable[[], set[int]]) -> pa.Table | None:
        """dim_date's rows to write: when it is rebuilt, every day from the first
        to the last rental or payment in staging; otherwise the days that dim_date
        (its date_ids: ``existing_ids()``) lacks to cover the changed rentals and
        payments. None: nothing to write."""
        rebuild = self.rebuilds_dim_date
        sql = days_sql(changed=not rebuild)
        if not rebuild and self.nothing_changed_for(sql):
            return None
        first, last = self.spark.sql(sql).first()
        if first is None:
            return None
        if rebuild:
            return dim_date_rows(first, last)
        rows = dim_date_additions(first, last, existing_ids())
        return rows if rows.num_rows else None


# --- The marts job ------------------------------------------------------------------------


def read_changes(
    spark: "SparkSession", tables: list[StagedTable], run: RunProperties, warehouse: str
) -> dict[str, "DataFrame"]:
    """The changed rows the extract job left, those deleted at the source
    included (tables without changes: absent)."""
    changes = {}
    for table in tables:
        deleted = run.deleted_rows.get(table.name, 0)
        uris = [deleted_uri(warehouse, table.name, run.run_id)] if deleted else []
        if run.changed_rows.get(table.name, 0) > deleted:
            uris.append(changes_uri(warehouse, table.name, run.run_id))
        if uris:
            changes[table.name] = spark.read.schema(ddl_schema(table.columns)).parquet(*uris)
    return changes


def marts_run(
    spark: "SparkSession",
    tables: list[StagedTable],
    sql: Mapping[str, str],
    run: RunProperties,
    *,
    warehouse: str,
    names: TableNames,
) -> dict[str, int]:
    """Build dim_date and every mart from staging as the extract job left it;
    {mart: rows written}. One Iceberg commit per mart."""
    iceberg.marts_reset_to_published(spark, names, run)
    staging = {}
    for table in tables:
        frame = iceberg.table_or_none(spark, names.identifier("staging", table.name))
        if frame is not None:
            staging[table.name] = frame
    changed = None if run.full else read_changes(spark, tables, run, warehouse)
    register_sources(spark, tables, staging, changed)
    # The app gives the time it started the run (local, as rental dates are).
    register_clock_and_marts(spark, names, run.as_of or datetime.now(), sql)
    written = {}
    deleted = {name for name, rows in run.deleted_rows.items() if rows}
    with SparkTransform(spark, sql, full=run.full, deleted=deleted) as transform:
        written[DIM_DATE.name] = write_dim_date(spark, transform, names)
        for mart in SQL_MARTS:
            written[mart.name] = write_mart(spark, transform, mart, names)
    return written


def write_dim_date(spark: "SparkSession", transform: SparkTransform, names: TableNames) -> int:
    """New days are appended (a full run, or deleted rentals, rewrite the calendar)."""
    identifier = iceberg.ensure_table(
        spark, names, "marts", DIM_DATE.name, spark_columns(DIM_DATE.schema)
    )

    def existing_ids() -> set[int]:
        return {row[0] for row in spark.table(identifier).select("date_id").collect()}

    rows = transform.dim_date_rows(existing_ids)
    if rows is None:
        return 0
    frame = arrow_frame(spark, rows)
    if transform.rebuilds_dim_date:
        iceberg.replace_all(frame, identifier)
    else:
        iceberg.append(frame, identifier)
    return rows.num_rows


def write_mart(
    spark: "SparkSession", transform: SparkTransform, mart: Mart, names: TableNames
) -> int:
    """Replace the mart's rows for the rebuilt keys (a full run: all rows)."""
    identifier = iceberg.ensure_table(
        spark, names, "marts", mart.name, spark_columns(mart.schema), mart.month_partition
    )
    build = transform.build_mart(mart)
    if build is None:
        return 0
    if transform.full:
        iceberg.replace_all(build.rows, identifier)
    else:
        iceberg.replace_keys(
            spark, identifier, rows=f"{mart.name}_rows", keys=f"{mart.name}_keys",
            key=mart.key, grain=mart_grain(mart), columns=mart.schema.names,
        )  # fmt: skip
    return build.rows_built
