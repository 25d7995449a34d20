"""The Glue jobs' SQL on local Spark: given these rows, expect these rows;
and the Iceberg statements that need Glue parse in Spark's own parser."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from lake.aws.assets import staged_tables_from_models
from lake.core.dates import dim_date_rows
from lake.core.marts import DIM_DATE, MARTS, SQL_MARTS
from lake.glue_jobs.sql import (
    REMOVE,
    TableNames,
    cast_expressions,
    changed_rows_sql,
    create_namespace_sql,
    create_table_sql,
    delete_rows_sql,
    deleted_rows_sql,
    replace_keys_source_sql,
    replace_keys_sql,
    row_count_sql,
    same_row,
    snapshot_sql,
    upsert_sql,
)
from lake.glue_jobs.tables import StagedTable, ddl_schema, spark_columns
from lake.glue_jobs.transform import arrow_frame, mart_grain
from tests.lake.glue_jobs.test_sql import PAYMENT

pytestmark = pytest.mark.spark

LINKS = StagedTable(
    name="film_actor",
    columns=(("actor_id", "BIGINT"), ("film_id", "BIGINT")),
    primary_key=("actor_id", "film_id"), fully_extracted=True, last_update_nullable=False,
)  # fmt: skip
T1, T2 = datetime(2005, 7, 1, 10, 0), datetime(2005, 7, 2, 11, 30, 0, 5)


def view(spark, name: str, table: StagedTable, rows: list[tuple]) -> None:
    spark.createDataFrame(rows, ddl_schema(table.columns)).createOrReplaceTempView(name)


def rows_of(spark, sql: str) -> list[tuple]:
    return sorted(tuple(row) for row in spark.sql(sql).collect())


def test_changed_rows_are_those_read_that_differ_from_the_published_ones(spark):
    view(spark, "published_payment", PAYMENT, [
        (1, Decimal("2.99"), T1),  # read again, unchanged (the overlap window)
        (2, Decimal("0.99"), T1),  # read again, changed
        (3, Decimal("4.99"), None),  # not read this time
    ])  # fmt: skip
    view(spark, "extracted_payment", PAYMENT, [
        (1, Decimal("2.99"), T1), (2, Decimal("1.99"), T2), (4, Decimal("5.00"), T2),
    ])  # fmt: skip

    changed = rows_of(spark, changed_rows_sql(PAYMENT, "extracted_payment", "published_payment"))

    assert changed == [(2, Decimal("1.99"), T2), (4, Decimal("5.00"), T2)]


def test_a_table_read_whole_also_changes_by_the_rows_it_lost(spark):
    view(spark, "published_links", LINKS, [(1, 10), (1, 11), (2, 20)])
    view(spark, "extracted_links", LINKS, [(1, 10), (2, 20), (2, 21)])

    sql = changed_rows_sql(LINKS, "extracted_links", "published_links", removed_too=True)

    assert rows_of(spark, sql) == [(1, 11), (2, 21)]


def test_deleted_rows_are_the_staged_ones_whose_whole_key_the_source_lost(spark):
    view(spark, "staged_links", LINKS, [(1, 10), (1, 11), (2, 10), (3, 30)])
    keys = "`actor_id` BIGINT, `film_id` BIGINT"
    spark.createDataFrame([(1, 10), (2, 11), (3, 30)], keys).createOrReplaceTempView("source_keys")
    view(spark, "recorded_links", LINKS, [(3, 30)])  # an earlier attempt's: not found twice

    sql = deleted_rows_sql(LINKS, "staged_links", "source_keys", "recorded_links")

    # (2, 10) is gone though actor 2 and film 10 are both still in some key.
    assert rows_of(spark, sql) == [(1, 11), (2, 10)]


def test_a_deleted_row_goes_from_staging_a_row_recreated_under_its_key_stays(spark):
    view(spark, "staging", PAYMENT, [(1, Decimal("2.99"), T1), (2, Decimal("0.99"), None),
                                     (3, Decimal("4.99"), T2)])  # fmt: skip
    view(spark, "deleted", PAYMENT, [(1, Decimal("2.99"), T1), (2, Decimal("0.99"), None),
                                     (3, Decimal("4.99"), T1)])  # fmt: skip
    # What MERGE INTO staging USING deleted ON <same row> WHEN MATCHED THEN DELETE leaves:
    left = (
        f"SELECT t.* FROM staging AS t LEFT ANTI JOIN deleted AS s ON {same_row(PAYMENT, 't', 's')}"
    )
    assert rows_of(spark, left) == [(3, Decimal("4.99"), T2)]


def test_a_mart_merge_replaces_the_rows_of_the_rebuilt_keys(spark):
    """bridge_film_actor has several rows per film: a rebuilt film keeps its
    new rows only; other films are untouched."""
    columns = (("film_id", "BIGINT"), ("actor_id", "BIGINT"))
    for name, rows in {
        "mart": [(1, 10), (1, 11), (2, 20)],
        "mart_keys": [(1,)],
        "mart_rows": [(1, 10), (1, 12)],
    }.items():
        schema = ddl_schema(columns[:1] if name == "mart_keys" else columns)
        spark.createDataFrame(rows, schema).createOrReplaceTempView(name)

    source = spark.sql(
        replace_keys_source_sql("mart", "mart_rows", "mart_keys", "film_id",
                                ("film_id", "actor_id"), ["film_id", "actor_id"])
    ).collect()  # fmt: skip

    assert sorted((row.film_id, row.actor_id, row[REMOVE]) for row in source) == [
        (1, 10, False), (1, 11, True), (1, 12, False),
    ]  # fmt: skip
    # What MERGE ... WHEN MATCHED AND remove THEN DELETE ... leaves:
    touched = {(row.film_id, row.actor_id) for row in source}
    kept = [row for row in [(1, 10), (1, 11), (2, 20)] if row not in touched]
    added = [(row.film_id, row.actor_id) for row in source if not row[REMOVE]]
    assert sorted(kept + added) == [(1, 10), (1, 12), (2, 20)]


def test_extracted_rows_take_the_staging_types(spark):
    """JDBC gives MySQL's types (INT ids, SMALLINT years); staging has the manifest's."""
    source = spark.createDataFrame(
        [(7, 2006, "2.99", T1)], "payment_id INT, year SMALLINT, amount STRING, t TIMESTAMP_NTZ"
    )
    columns = (("payment_id", "BIGINT"), ("year", "INT"), ("amount", "DECIMAL(5,2)"),
               ("t", "TIMESTAMP_NTZ"))  # fmt: skip
    conformed = source.selectExpr(*cast_expressions(columns))
    assert conformed.dtypes == [("payment_id", "bigint"), ("year", "int"),
                                ("amount", "decimal(5,2)"), ("t", "timestamp_ntz")]  # fmt: skip
    assert tuple(conformed.first()) == (7, 2006, Decimal("2.99"), T1)


def test_dim_date_rows_keep_their_types_and_values_in_spark(spark):
    rows = dim_date_rows(date(2005, 12, 24), date(2006, 1, 2))
    frame = arrow_frame(spark, rows)
    expected = spark.createDataFrame([], ddl_schema(spark_columns(DIM_DATE.schema)))
    assert frame.schema == expected.schema
    assert [tuple(row) for row in frame.collect()] == [tuple(r.values()) for r in rows.to_pylist()]


def test_the_iceberg_statements_parse_in_spark(spark):
    """MERGE, CREATE TABLE and time travel run on Glue only (Iceberg); Spark's
    own parser accepts each statement the jobs send."""
    parser = spark._jsparkSession.sessionState().sqlParser()
    names = TableNames("glue_catalog", "sakila_staging", "sakila_marts")
    statements = [create_namespace_sql(names, "staging")]
    for table in staged_tables_from_models():
        identifier = names.identifier("staging", table.name)
        statements += [
            create_table_sql(identifier, table.columns, table.month_partition),
            snapshot_sql(identifier, table.column_names, 1234567890123),
            upsert_sql(identifier, f"changed_{table.name}", table.primary_key, table.column_names),
            delete_rows_sql(identifier, table, f"deleted_{table.name}"),
            row_count_sql(identifier),
        ]
    for mart in MARTS:
        identifier = names.identifier("marts", mart.name)
        columns = spark_columns(mart.schema)
        statements.append(create_table_sql(identifier, columns, mart.month_partition))
        if mart in SQL_MARTS:
            statements.append(
                replace_keys_sql(identifier, f"{mart.name}_rows", f"{mart.name}_keys", mart.key,
                                 mart_grain(mart), mart.schema.names)
            )  # fmt: skip
    for sql in statements:
        parser.parsePlan(sql)  # raises ParseException on a slip
