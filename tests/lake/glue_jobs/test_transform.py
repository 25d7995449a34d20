"""The Glue marts job's transform on local PySpark equals the DuckDB engine's marts.

The staging tables a local pipeline run published are loaded into Spark as
the ``staging_<table>``/``changed_<table>`` views the marts job sees; the
Spark-rendered keys and mart SQL must then give the DuckDB engine's rows,
row for row, for a full build and for an incremental one.
"""

import pyarrow as pa
import pytest

from lake.aws.assets import spark_sql, staged_tables_from_models
from lake.catalog import load_table
from lake.core.marts import DIM_DATE, RUN_CLOCK, SQL_MARTS
from lake.core.tables import data_files
from lake.glue_jobs.sql import REMOVE, changed_rows_sql, deleted_rows_sql, replace_keys_source_sql
from lake.glue_jobs.tables import ddl_schema, spark_columns
from lake.glue_jobs.transform import (
    SparkTransform,
    arrow_frame,
    mart_grain,
    read_changes,
    register_sources,
)
from lake.glue_jobs.workflow import RunProperties, changes_uri, deleted_uri
from lake.pipeline.schemas import STAGED_MODELS, staging_schema, table_name
from lake.pipeline.transform import Transform
from rentals.generator import generate_sakila
from rentals.models import Rental
from tests.lake.conftest import marts_contents
from tests.lake.test_incremental import make_desk_changes
from tests.lake.test_money import AS_OF, run_as_of

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


def test_full_build_equals_the_duckdb_marts(spark, lake):
    generate_sakila(scale=0.05, seed=9)
    run = run_as_of(AS_OF, full=True)
    expected = marts_contents(run.snapshots)
    tables = staged_tables_from_models()
    register_sources(spark, tables, published_staging(spark, tables, run.snapshots), None)
    register_clock(spark, {})

    with SparkTransform(spark, spark_sql(), full=True) as transform:
        dim_date = transform.dim_date_rows(lambda: pytest.fail("a full run reads no dim_date"))
        assert arrow_rows(dim_date) == expected[DIM_DATE.name]
        for mart in SQL_MARTS:
            build = transform.build_mart(mart)
            assert build.rows.columns == mart.schema.names
            assert frame_rows(build.rows) == expected[mart.name], mart.name
            assert build.rows_built == len(expected[mart.name]) > 0

    assert len(expected["fact_sales"]) == Rental.objects.count()


def test_incremental_build_rebuilds_the_changed_keys_as_duckdb_does(spark, lake):
    generate_sakila(scale=0.05, seed=9)
    before = run_as_of(AS_OF)
    changes = make_desk_changes()
    after = run_as_of(AS_OF)
    assert not after.full
    old_marts, new_marts = marts_contents(before.snapshots), marts_contents(after.snapshots)
    tables = staged_tables_from_models()
    old_staging = published_staging(spark, tables, before.snapshots)
    new_staging = published_staging(spark, tables, after.snapshots)

    # The run's changes as the extract job finds them (the rows read, here all of
    # staging after the run, that are not identically in the published staging;
    # and the published rows whose key is gone, deleted at the source) and
    # leaves them for the marts job.
    counts, deleted = {}, {}
    for table in tables:
        new_staging[table.name].createOrReplaceTempView(f"extracted_{table.name}")
        old_staging[table.name].createOrReplaceTempView(f"published_{table.name}")
        spark.createDataFrame([], ddl_schema(table.columns)).createOrReplaceTempView("recorded")
        sql = changed_rows_sql(
            table,
            f"extracted_{table.name}",
            f"published_{table.name}",
            removed_too=table.fully_extracted,
        )
        found = spark.sql(sql)
        found.write.mode("overwrite").parquet(changes_uri(lake.as_uri(), table.name, after.pk))
        gone = spark.sql(deleted_rows_sql(
            table, f"published_{table.name}", f"extracted_{table.name}", "recorded"
        ))  # fmt: skip
        gone.write.mode("overwrite").parquet(deleted_uri(lake.as_uri(), table.name, after.pk))
        deleted[table.name] = gone.count()
        counts[table.name] = found.count() + deleted[table.name]
    assert {name: count for name, count in counts.items() if count} == {
        "address": 2,  # the mover's new address, and the renamed one
        "customer": 1,  # the mover
        "film": 1,  # the new price
        "film_category": 2,  # a link removed and one added: both are changes
        "rental": 3 + 2,  # new and returned
        "payment": 3 + 1,
    }
    assert {name: count for name, count in deleted.items() if count} == {"film_category": 1}
    run = RunProperties(
        run_id=after.pk, full=False, watermarks_from={}, published_snapshots={},
        changed_rows=counts, deleted_rows=deleted,
    )  # fmt: skip
    changed = read_changes(spark, tables, run, lake.as_uri())
    assert set(changed) == {name for name, count in counts.items() if count}
    register_sources(spark, tables, new_staging, changed)
    register_clock(spark, before.snapshots)

    # DuckDB's keys for the same changes (the local engine's transform).
    changed_arrow = {
        name: pa.Table.from_pylist([row.asDict() for row in frame.collect()], ARROW_SCHEMAS[name])
        for name, frame in changed.items()
    }  # a table without changes is absent: empty to the local Transform
    with (
        Transform(changed_arrow, full=False, as_of=AS_OF) as duckdb_transform,
        SparkTransform(spark, spark_sql(), full=False) as transform,
    ):
        old_dates = {row[0] for row in old_marts[DIM_DATE.name]}
        new_dates = transform.dim_date_rows(lambda: old_dates)
        all_dates = sorted_rows(old_marts[DIM_DATE.name] + arrow_rows(new_dates))
        assert all_dates == new_marts[DIM_DATE.name]

        rebuilt = {}
        for mart in SQL_MARTS:
            build = transform.build_mart(mart)
            if build is None:
                assert old_marts[mart.name] == new_marts[mart.name], mart.name
                continue
            keys = {row[0] for row in build.keys.collect()}
            duckdb_keys = set(duckdb_transform.query(mart.keys_sql)[mart.key].to_pylist())
            assert keys == duckdb_keys, mart.name
            rebuilt[mart.name] = keys
            assert after_merge(spark, mart, before.snapshots) == new_marts[mart.name], mart.name

    repriced = set(
        Rental.objects.filter(inventory__film=changes["priced"]).values_list("pk", flat=True)
    )
    assert (
        rebuilt["fact_sales"] == set(changes["new_rentals"]) | set(changes["returned"]) | repriced
    )
    assert rebuilt["dim_customer"] == {changes["mover"].pk, changes["renamed"].pk}
    assert rebuilt["dim_film"] == {changes["film"].pk, changes["priced"].pk}
    assert "dim_actor" not in rebuilt and "bridge_film_actor" not in rebuilt


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
