"""Lake tables in a test's SparkSession, for tests of the jobs' parts
(test_deletes.py): a table at a snapshot, read from its Parquet files, and a
mart as the marts job's merge leaves it. The whole jobs run for real in
tests/lake/engines/test_spark_runs.py."""

import pyarrow as pa
import pytest

from lake.catalog import load_table
from lake.core.marts import RUN_CLOCK, SQL_MARTS
from lake.core.tables import data_files
from lake.glue_jobs.sql import REMOVE, replace_keys_source_sql
from lake.glue_jobs.tables import ddl_schema, spark_columns
from lake.glue_jobs.transform import (
    arrow_frame,
    mart_grain,
)
from lake.pipeline.schemas import STAGED_MODELS, staging_schema, table_name
from tests.lake.test_money import AS_OF

pytestmark = [pytest.mark.spark, pytest.mark.django_db(transaction=True)]

ARROW_SCHEMAS = {table_name(model): staging_schema(model) for model in STAGED_MODELS}


def sorted_rows(rows: list[tuple]) -> list[tuple]:
    return sorted(rows, key=repr)  # as marts_contents sorts


def frame_rows(frame) -> list[tuple]:
    return sorted_rows([tuple(row) for row in frame.collect()])


def arrow_rows(table: pa.Table) -> list[tuple]:
    return sorted_rows([tuple(row.values()) for row in table.to_pylist()])


def table_at(spark, identifier: str, snapshot_id: int | None, columns):
    """A lake table at a snapshot, read by Spark from its Parquet data files."""
    table = load_table(identifier)
    paths = data_files(table, snapshot_id) if table is not None else []
    if not paths:
        return spark.createDataFrame([], ddl_schema(columns))
    return spark.read.schema(ddl_schema(columns)).parquet(*paths)


def published_staging(spark, tables, snapshots: dict) -> dict:
    return {
        table.name: table_at(
            spark, f"staging.{table.name}", snapshots.get(f"staging.{table.name}"), table.columns
        )
        for table in tables
    }


def register_clock(spark, snapshots: dict) -> None:
    """``run_clock`` at AS_OF and ``mart_fact_sales`` as published at ``snapshots``
    (the marts job reads them from the Glue catalog: ``register_clock_and_marts``)."""
    arrow_frame(spark, pa.table({"as_of": [AS_OF]}, schema=RUN_CLOCK)).createOrReplaceTempView(
        "run_clock"
    )
    [fact_sales] = [mart for mart in SQL_MARTS if mart.name == "fact_sales"]
    table_at(
        spark, fact_sales.identifier, snapshots.get(fact_sales.identifier),
        spark_columns(fact_sales.schema),
    ).createOrReplaceTempView("mart_fact_sales")  # fmt: skip


def after_merge(spark, mart, snapshots: dict) -> list[tuple]:
    """The mart after the marts job's merge of its rebuilt rows: the merge's
    source (run here on Spark) applied to the mart as last published."""
    published = table_at(
        spark, mart.identifier, snapshots.get(mart.identifier), spark_columns(mart.schema)
    )
    published.createOrReplaceTempView(f"published_{mart.name}")
    source = spark.sql(
        replace_keys_source_sql(
            f"published_{mart.name}", f"{mart.name}_rows", f"{mart.name}_keys", mart.key,
            mart_grain(mart), mart.schema.names,
        )
    ).collect()  # fmt: skip
    grain = [mart.schema.names.index(name) for name in mart_grain(mart)]
    touched = {tuple(row[i] for i in grain) for row in source}
    kept = [
        tuple(row) for row in published.collect() if tuple(row[i] for i in grain) not in touched
    ]
    added = [tuple(row)[:-1] for row in source if not row[REMOVE]]
    return sorted_rows(kept + added)
