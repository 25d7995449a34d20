"""The SQL the Glue jobs send, checked as text and parsed in its dialect
(tests/lake/glue_jobs/test_spark_sql.py runs it on Spark)."""

from datetime import datetime

import pytest
import sqlglot

from lake.glue_jobs.sql import (
    TABLE_PROPERTIES,
    TableNames,
    changed_rows_sql,
    count_query,
    create_table_sql,
    delete_rows_sql,
    deleted_rows_sql,
    drop_columns_sql,
    jdbc_custom_schema,
    jdbc_query,
    jdbc_url,
    keys_query,
    replace_keys_sql,
    row_count_sql,
    snapshot_sql,
    upsert_sql,
)
from lake.glue_jobs.tables import StagedTable

RENTAL = StagedTable(
    name="rental",
    columns=(("rental_id", "BIGINT"), ("rental_date", "TIMESTAMP_NTZ"),
             ("last_update", "TIMESTAMP_NTZ")),
    primary_key=("rental_id",), fully_extracted=False, last_update_nullable=False,
    month_partition="rental_date",
)  # fmt: skip
PAYMENT = StagedTable(
    name="payment",
    columns=(("payment_id", "BIGINT"), ("amount", "DECIMAL(5,2)"),
             ("last_update", "TIMESTAMP_NTZ")),
    primary_key=("payment_id",), fully_extracted=False, last_update_nullable=True,
)  # fmt: skip
FILM_ACTOR = StagedTable(
    name="film_actor",
    columns=(("actor_id", "BIGINT"), ("film_id", "BIGINT"), ("last_update", "TIMESTAMP_NTZ")),
    primary_key=("actor_id", "film_id"), fully_extracted=True, last_update_nullable=False,
)  # fmt: skip


def test_a_first_read_takes_every_row():
    assert jdbc_query(RENTAL, None) == (
        "SELECT `rental_id`, `rental_date`, `last_update` FROM `rental`"
    )


def test_a_later_read_pushes_the_watermark_down_to_mysql():
    sql = jdbc_query(RENTAL, datetime(2005, 7, 1, 9, 55, 0, 120))
    assert sql.endswith(" WHERE `last_update` >= '2005-07-01 09:55:00.000120'")
    sqlglot.parse_one(sql, read="mysql")


def test_rows_without_last_update_are_read_every_time():
    sql = jdbc_query(PAYMENT, datetime(2005, 7, 1))
    assert sql.endswith(
        "WHERE `last_update` >= '2005-07-01 00:00:00.000000' OR `last_update` IS NULL"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "jdbc:mysql://db.example:3306/sakila",
            "jdbc:mysql://db.example:3306/sakila?yearIsDateType=false&useCursorFetch=true",
        ),
        (  # the connection's own options stay, and win
            "jdbc:mysql://db.example:3306/sakila?useSSL=true&useCursorFetch=false",
            "jdbc:mysql://db.example:3306/sakila?useSSL=true&useCursorFetch=false"
            "&yearIsDateType=false",
        ),
    ],
)
def test_the_jdbc_url_reads_year_as_a_number_and_streams(url, expected):
    assert jdbc_url(url) == expected


def test_other_databases_jdbc_urls_are_left_as_they_are():
    assert jdbc_url("jdbc:sqlite:/srv/sakila.sqlite3") == "jdbc:sqlite:/srv/sakila.sqlite3"


def test_on_sqlite_times_and_decimals_are_read_as_the_text_sqlite_holds():
    assert jdbc_custom_schema(PAYMENT, "jdbc:sqlite:/srv/s.db") == (
        "`amount` STRING, `last_update` STRING"
    )
    assert jdbc_custom_schema(PAYMENT, "jdbc:mysql://db/sakila") is None


def test_lake_tables_are_named_as_the_catalog_names_them():
    # lake/catalog/: "<GLUE_DATABASE>_<namespace>" in the Glue catalog, the zone in the SQL one
    glue = TableNames("glue_catalog", "sakila_staging", "sakila_marts")
    assert glue.identifier("staging", "rental") == "`glue_catalog`.`sakila_staging`.`rental`"
    assert TableNames("sakila", "staging", "marts").namespace("marts") == "`sakila`.`marts`"
    with pytest.raises(ValueError, match="not a lake zone: 'raw'"):
        glue.namespace("raw")


def test_tables_are_created_copy_on_write_and_partitioned_by_month():
    sql = create_table_sql("glue_catalog.`sakila_staging`.`rental`", RENTAL.columns, "rental_date")
    assert "`rental_date` TIMESTAMP_NTZ" in sql
    assert "USING iceberg PARTITIONED BY (months(`rental_date`))" in sql
    assert "'write.merge.mode' = 'copy-on-write'" in sql
    assert TABLE_PROPERTIES["format-version"] == "2"
    assert "PARTITIONED" not in create_table_sql("t", PAYMENT.columns)


def test_changes_are_found_against_the_published_rows_of_the_keys_read():
    sql = changed_rows_sql(RENTAL, "extracted_rental", "published_rental")
    assert "LEFT SEMI JOIN extracted_rental AS e ON p.`rental_id` = e.`rental_id`" in sql
    sqlglot.parse_one(sql, read="spark")
    whole = changed_rows_sql(FILM_ACTOR, "extracted_film_actor", "published_film_actor",
                             removed_too=True)  # fmt: skip
    assert whole.count("EXCEPT") == 2 and "UNION ALL" in whole
    sqlglot.parse_one(whole, read="spark")


def test_staging_merge_and_mart_merge_and_time_travel_parse_as_spark():
    statements = [
        upsert_sql("glue_catalog.`s_staging`.`film_actor`", "changed_film_actor",
                   FILM_ACTOR.primary_key, FILM_ACTOR.column_names),
        replace_keys_sql("glue_catalog.`s_marts`.`bridge_film_actor`", "bridge_film_actor_rows",
                         "bridge_film_actor_keys", "film_id", ("film_id", "actor_id"),
                         ["film_id", "actor_id"]),
        snapshot_sql("glue_catalog.`s_staging`.`rental`", RENTAL.column_names, 42),
    ]  # fmt: skip
    for sql in statements:
        sqlglot.parse_one(sql, read="spark")
    assert "ON t.`actor_id` = s.`actor_id` AND t.`film_id` = s.`film_id`" in statements[0]
    assert "WHEN MATCHED AND s.lake_remove THEN DELETE" in statements[1]
    assert statements[2].endswith("VERSION AS OF 42")


def test_columns_left_out_of_the_lake_are_dropped_from_an_existing_table():
    identifier = "glue_catalog.`s_staging`.`staff`"
    sql = drop_columns_sql(identifier, ["staff_id", "password", "picture"], ["staff_id"])
    assert sql == f"ALTER TABLE {identifier} DROP COLUMNS (`password`, `picture`)"
    sqlglot.parse_one(sql, read="spark")
    assert drop_columns_sql(identifier, ["staff_id"], ["staff_id", "email"]) is None


def test_deletes_are_found_by_a_count_then_the_keys_only():
    assert count_query(RENTAL) == "SELECT COUNT(*) AS row_count FROM `rental`"
    assert keys_query(FILM_ACTOR) == "SELECT `actor_id`, `film_id` FROM `film_actor`"
    for sql in (count_query(RENTAL), keys_query(FILM_ACTOR)):
        sqlglot.parse_one(sql, read="mysql")


def test_deleted_rows_are_staged_rows_without_a_source_key_by_the_whole_key():
    sql = deleted_rows_sql(FILM_ACTOR, "staged", "source_keys", "recorded")
    assert (
        "LEFT ANTI JOIN source_keys AS k ON s.`actor_id` = k.`actor_id` AND s.`film_id` = k.`film_id`"
        in sql
    )
    assert "LEFT ANTI JOIN recorded AS r ON" in sql
    sqlglot.parse_one(sql, read="spark")


def test_staging_loses_exactly_the_deleted_rows_and_counts_from_metadata():
    identifier = "glue_catalog.`s_staging`.`payment`"
    delete = delete_rows_sql(identifier, PAYMENT, "deleted_payment")
    assert delete.endswith("WHEN MATCHED THEN DELETE")
    # A row re-created under a deleted key has other values: it stays.
    assert "t.`payment_id` = s.`payment_id` AND t.`amount` <=> s.`amount`" in delete
    count = row_count_sql(identifier)
    assert f"FROM {identifier}.snapshots AS s JOIN {identifier}.refs AS r" in count
    assert "summary['total-records']" in count
    for sql in (delete, count):
        sqlglot.parse_one(sql, read="spark")
