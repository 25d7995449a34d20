"""Rows deleted in the rental database leave the Glue engine's staging and
marts at the next incremental run, as after a full run.

The extract job's delete detection (``find_deleted``) runs on local PySpark
against the published staging of a local pipeline run, with its queries
sent to the test's rental database (SQLite takes MySQL's backticks) in place
of JDBC. What the staging MERGE ... DELETE leaves is applied here with the
same row condition, and the marts job's transform then rebuilds the marts
from the changes it reads, as in test_transform.py.
"""

import dataclasses

import pytest
from django.db import connection

from lake.aws.assets import spark_sql, staged_tables_from_models
from lake.core.marts import DIM_DATE, SQL_MARTS
from lake.glue_jobs.extract import find_deleted
from lake.glue_jobs.sql import count_query, keys_query, same_row
from lake.glue_jobs.transform import SparkTransform, read_changes, register_sources
from lake.glue_jobs.workflow import RunProperties, changes_uri, deleted_uri
from rentals.generator import generate_sakila
from rentals.models import Film, FilmActor
from tests.lake.conftest import marts_contents
from tests.lake.glue_jobs.spark_tables import (
    after_merge,
    arrow_rows,
    frame_rows,
    published_staging,
    register_clock,
    sorted_rows,
)
from tests.lake.test_incremental import DELETES, delete_film
from tests.lake.test_money import AS_OF, run_as_of

pytestmark = [pytest.mark.spark, pytest.mark.django_db(transaction=True)]

RUN_ID = 2  # the incremental run after the first (full) one


class OltpSource:
    """The extract job's queries to the rental database, sent to the test's
    database instead of over JDBC; every query is recorded."""

    def __init__(self, spark) -> None:
        self.spark = spark
        self.queries: list[str] = []

    def _fetch(self, query: str) -> tuple[list[str], list[tuple]]:
        self.queries.append(query)
        with connection.cursor() as cursor:
            cursor.execute(query)
            return [column[0] for column in cursor.description], cursor.fetchall()

    def count(self, query: str) -> int:
        return self._fetch(query)[1][0][0]

    def read(self, query: str):
        names, rows = self._fetch(query)
        return self.spark.createDataFrame(rows, ", ".join(f"`{n}` BIGINT" for n in names))


def link_tables_not_read_whole():
    """Every staged table as incremental: delete detection, not a whole read,
    must see a removed link."""
    return [dataclasses.replace(t, fully_extracted=False) for t in staged_tables_from_models()]


def detect_deletes(spark, lake, tables, staging: dict, source: OltpSource) -> dict:
    """find_deleted for every table, as the extract job runs it after the merge;
    {table: deleted rows frame} for the tables that lost rows."""
    found = {}
    for table in tables:
        staged = staging[table.name]
        at = deleted_uri(lake.as_uri(), table.name, RUN_ID)
        deleted = find_deleted(spark, table, staged, staged.count(), source, at)
        if deleted is not None:
            found[table.name] = deleted
    return found


def after_delete(spark, table, staged, deleted):
    """What ``MERGE INTO staging USING deleted ON <same row> WHEN MATCHED THEN
    DELETE`` leaves of the staged rows."""
    staged.createOrReplaceTempView("t")
    deleted.createOrReplaceTempView("s")
    return spark.sql(f"SELECT t.* FROM t LEFT ANTI JOIN s ON {same_row(table, 't', 's')}")


EXPECTED_DELETES = {
    "rental": {"rental", "payment"},
    "payment": {"payment"},
    "customer": {"customer", "rental", "payment"},
    "film": {"film", "film_actor", "film_category", "inventory", "rental", "payment"},
    "film_actor": {"film_actor"},
}


def delete_film_with_copies() -> None:
    delete_film(Film.objects.filter(inventory__isnull=False).order_by("pk").distinct()[2])


KINDS = {
    **DELETES,
    "film": delete_film_with_copies,  # its copies, their rentals and payments go too
    "film_actor": lambda: FilmActor.objects.order_by("film_id", "actor_id")[7].delete(),
}


# Rentals, payments, customers and films deleted at the source go through the real
# jobs in tests/lake/engines/test_spark_runs.py; a link table read like any
# other (not whole) is only here.
@pytest.mark.parametrize("kind", ["film_actor"])
def test_deleted_rows_leave_staging_and_the_marts_at_the_next_run(spark, lake, kind):
    generate_sakila(scale=0.05, seed=9)
    before = run_as_of(AS_OF)
    KINDS[kind]()
    tables = link_tables_not_read_whole()
    old_staging = published_staging(spark, tables, before.snapshots)
    source = OltpSource(spark)

    deleted = detect_deletes(spark, lake, tables, old_staging, source)

    assert set(deleted) == EXPECTED_DELETES[kind]
    # Only the tables whose counts differ have their keys read.
    assert source.queries == [
        query
        for t in tables
        for query in ([count_query(t), keys_query(t)] if t.name in deleted else [count_query(t)])
    ]
    new_staging = {
        t.name: after_delete(spark, t, old_staging[t.name], deleted[t.name])
        if t.name in deleted else old_staging[t.name]
        for t in tables
    }  # fmt: skip
    counts = {name: frame.count() for name, frame in deleted.items()}
    run = RunProperties(
        run_id=RUN_ID, full=False, watermarks_from={}, published_snapshots={},
        changed_rows=counts, deleted_rows=counts,
    )  # fmt: skip
    changed = read_changes(spark, tables, run, lake.as_uri())
    assert {name: frame.count() for name, frame in changed.items()} == counts
    register_sources(spark, tables, new_staging, changed)
    register_clock(spark, before.snapshots)
    old_marts = marts_contents(before.snapshots)
    marts = {}
    with SparkTransform(spark, spark_sql(), full=False, deleted=set(deleted)) as transform:
        assert transform.rebuilds_dim_date == ("rental" in deleted)
        dates = transform.dim_date_rows(lambda: {row[0] for row in old_marts[DIM_DATE.name]})
        if transform.rebuilds_dim_date:
            marts[DIM_DATE.name] = arrow_rows(dates)
        else:
            assert dates is None  # no rental changed
            marts[DIM_DATE.name] = old_marts[DIM_DATE.name]
        for mart in SQL_MARTS:
            build = transform.build_mart(mart)
            marts[mart.name] = (
                old_marts[mart.name]
                if build is None
                else after_merge(spark, mart, before.snapshots)
            )

    full = run_as_of(AS_OF, full=True)
    expected_staging = published_staging(spark, tables, full.snapshots)
    for table in tables:
        assert frame_rows(new_staging[table.name]) == frame_rows(expected_staging[table.name])
    expected = marts_contents(full.snapshots)
    for name, rows in marts.items():
        assert sorted_rows(rows) == expected[name], name
    assert marts != old_marts


def test_nothing_is_read_beyond_the_count_when_counts_match(spark, lake):
    generate_sakila(scale=0.05, seed=9)
    before = run_as_of(AS_OF)
    tables = link_tables_not_read_whole()
    source = OltpSource(spark)

    deleted = detect_deletes(
        spark, lake, tables, published_staging(spark, tables, before.snapshots), source
    )

    assert deleted == {}
    assert source.queries == [count_query(table) for table in tables]
    assert not any((lake / "staging" / "_changes").rglob("*.parquet"))


def test_a_rerun_of_the_run_reports_the_same_deleted_rows(spark, lake):
    """The first attempt deleted the rows from staging and then failed: its
    rerun counts no difference, and still hands the marts job those rows."""
    generate_sakila(scale=0.05, seed=9)
    before = run_as_of(AS_OF)
    DELETES["payment"]()
    [payment] = [t for t in link_tables_not_read_whole() if t.name == "payment"]
    staged = published_staging(spark, [payment], before.snapshots)["payment"]
    at = deleted_uri(lake.as_uri(), "payment", RUN_ID)

    first = frame_rows(find_deleted(spark, payment, staged, staged.count(), OltpSource(spark), at))
    files = sorted(path.name for path in (lake / "staging").rglob("*.parquet"))
    # Failed before deleting from staging: the rows are found again, not recorded twice.
    again = OltpSource(spark)
    assert frame_rows(find_deleted(spark, payment, staged, staged.count(), again, at)) == first
    assert len(again.queries) == 2
    # Failed after: staging no longer has them, the counts agree, the record stays.
    left = after_delete(spark, payment, staged, spark.createDataFrame(first, staged.schema))
    rerun = OltpSource(spark)
    assert frame_rows(find_deleted(spark, payment, left, left.count(), rerun, at)) == first
    assert rerun.queries == [count_query(payment)]
    assert len(first) == 1
    assert sorted(path.name for path in (lake / "staging").rglob("*.parquet")) == files


def test_the_marts_job_reads_the_changed_and_the_deleted_rows(spark, tmp_path):
    [payment] = [t for t in staged_tables_from_models() if t.name == "payment"]
    warehouse = tmp_path.as_uri()
    rows = spark.read.schema(", ".join(f"`{n}` {t}" for n, t in payment.columns)).json(
        spark.sparkContext.parallelize(['{"payment_id": 1}', '{"payment_id": 2}'])
    )
    rows.where("payment_id = 1").write.parquet(changes_uri(warehouse, "payment", RUN_ID))
    rows.where("payment_id = 2").write.parquet(deleted_uri(warehouse, "payment", RUN_ID))

    def read(changed: int, deleted: int) -> list[int]:
        run = RunProperties(
            run_id=RUN_ID, full=False, watermarks_from={}, published_snapshots={},
            changed_rows={"payment": changed}, deleted_rows={"payment": deleted},
        )  # fmt: skip
        changes = read_changes(spark, [payment], run, warehouse)
        return sorted(row.payment_id for row in changes["payment"].collect())

    assert read(changed=2, deleted=1) == [1, 2]
    assert read(changed=1, deleted=1) == [2]  # only deletes: no changes file is read
