"""Data checks (lake/core/checks.py): each kind catches what it is for, on
tables given row by row in DuckDB, and the declared checks all compile."""

from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from lake.core.checks import (
    CheckError,
    Volume,
    compile_check,
    load_checks,
    run_checks,
)
from lake.core.marts import MARTS
from lake.core.transpile import render

NO_VOLUME = Volume(rows={}, published_rows={}, deleted={})


def tables(**given: list[dict]):
    """A DuckDB executor over the given tables (name=rows)."""
    con = duckdb.connect()
    for name, rows in given.items():
        con.register(name, pa.Table.from_pylist(rows))
    return lambda sql: con.sql(sql).to_arrow_table().to_pylist()


def outcome(spec: dict, execute, volume: Volume = NO_VOLUME, table: str = "fact_sales"):
    (result,) = run_checks([compile_check(table, spec)], execute, volume)
    return result


SALES = [
    {"rental_id": 1, "customer_id": 10, "amount": Decimal("2.99")},
    {"rental_id": 2, "customer_id": 11, "amount": Decimal("0.99")},
]
CUSTOMERS = [{"customer_id": 10}, {"customer_id": 11}]


def test_grain_catches_a_duplicate_key_and_a_null_one():
    grain = {"kind": "grain", "columns": ["rental_id"]}
    assert outcome(grain, tables(fact_sales=SALES)).status == "passed"

    twice = outcome(grain, tables(fact_sales=[*SALES, SALES[0]]))
    assert (twice.status, twice.failing, twice.rows) == (
        "failed",
        1,
        [{"rental_id": 1, "row_count": 2}],
    )
    no_key = outcome(grain, tables(fact_sales=[*SALES, {**SALES[0], "rental_id": None}]))
    assert no_key.status == "failed"


def test_relationship_catches_an_orphan_fact():
    spec = {"kind": "relationship", "column": "customer_id", "to": "dim_customer.customer_id"}
    assert outcome(spec, tables(fact_sales=SALES, dim_customer=CUSTOMERS)).status == "passed"

    orphan = [*SALES, {"rental_id": 3, "customer_id": 99, "amount": Decimal("1.00")}]
    result = outcome(spec, tables(fact_sales=orphan, dim_customer=CUSTOMERS))
    assert (result.status, result.rows) == ("failed", [{"customer_id": 99, "row_count": 1}])


def test_range_catches_a_negative_amount():
    spec = {"kind": "range", "column": "amount", "min": 0}
    assert outcome(spec, tables(fact_sales=SALES)).status == "passed"

    refund = [*SALES, {"rental_id": 3, "customer_id": 10, "amount": Decimal("-0.01")}]
    result = outcome(spec, tables(fact_sales=refund))
    assert (result.status, result.failing, result.rows[0]["rental_id"]) == ("failed", 1, 3)


def test_accepted_values_catch_a_rating_not_in_the_official_set():
    spec = {"kind": "accepted", "column": "rating", "values": ["G", "PG", "PG-13", "R", "NC-17"]}
    films = [{"film_id": 1, "rating": "PG"}, {"film_id": 2, "rating": None}]
    assert outcome(spec, tables(dim_film=films), table="dim_film").status == "passed"

    result = outcome(
        spec, tables(dim_film=[*films, {"film_id": 3, "rating": "X"}]), table="dim_film"
    )
    assert (result.status, result.rows) == ("failed", [{"rating": "X", "row_count": 1}])


def test_reconciliation_catches_one_cent_per_group():
    spec = {
        "kind": "reconcile",
        "name": "payments add up per store",
        "by": ["store_id"],
        "actual": "select store_id, sum(amount) as value from fact_payment group by store_id",
        "expected": "select store_id, sum(amount) as value from staging_payment group by store_id",
    }
    paid = [
        {"store_id": 1, "amount": Decimal("2.99")},
        {"store_id": 2, "amount": Decimal("4.99")},
    ]
    assert outcome(spec, tables(fact_payment=paid, staging_payment=paid)).status == "passed"

    off = [paid[0], {"store_id": 2, "amount": Decimal("4.98")}]
    result = outcome(spec, tables(fact_payment=off, staging_payment=paid))
    assert (result.status, result.rows) == (
        "failed",
        [{"store_id": 2, "actual": Decimal("4.98"), "expected": Decimal("4.99")}],
    )
    # A group on one side only is a difference too.
    only_staging = outcome(spec, tables(fact_payment=paid[:1], staging_payment=paid))
    assert only_staging.rows == [{"store_id": 2, "actual": None, "expected": Decimal("4.99")}]


def test_volume_catches_a_drop_the_runs_deletes_do_not_explain():
    spec = {"kind": "volume", "max_drop": 0.5, "explained_by": "rental"}
    execute = tables()

    def volume(now: int, deleted: int = 0) -> str:
        counts = Volume({"fact_sales": now}, {"fact_sales": 1000}, {"rental": deleted})
        return outcome(spec, execute, counts).status

    assert volume(now=600) == "passed"  # 40% fewer: within the share
    assert volume(now=500) == "passed"
    assert volume(now=490) == "failed"  # 51% fewer
    assert volume(now=100, deleted=880) == "passed"  # the source lost them too
    first = Volume({"fact_sales": 5}, {"fact_sales": None}, {})
    assert outcome(spec, execute, first).status == "passed"


def test_a_warning_is_flagged_and_does_not_block():
    spec = {"kind": "range", "column": "amount", "min": 1, "severity": "warn"}
    result = outcome(spec, tables(fact_sales=SALES))
    assert (result.status, result.blocks_publish) == ("warned", False)


def test_a_check_that_cannot_run_blocks_the_publish_with_the_database_error():
    spec = {"kind": "relationship", "column": "customer_id", "to": "dim_nowhere.customer_id"}
    result = outcome(spec, tables(fact_sales=SALES))
    assert result.status == "error" and result.blocks_publish
    assert "dim_nowhere" in result.message


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (
            '[[checks]]\nkind = "unique"',
            "fact_sales.checks.toml, check 1: kind 'unique' is not one",
        ),
        ('[[checks]]\nkind = "grain"', "fact_sales.checks.toml, check 1: 'columns'"),
        (
            '[[checks]]\nkind = "range"\ncolumn = "amount"\nmin = 0\nseverity = "fatal"',
            "severity 'fatal' is not one of error, warn",
        ),
        ('[[checks]\nkind = "grain"', "fact_sales.checks.toml: "),
        ('[[checks]]\nkind = "volume"\nmax_drop = 2', "max_drop 2.0 is not a share"),
    ],
)
def test_a_malformed_checks_file_is_named_with_its_check(tmp_path: Path, text, error):
    path = tmp_path / "fact_sales.checks.toml"
    path.write_text(text)
    with pytest.raises(CheckError, match=error.replace("(", r"\(")):
        load_checks([path])


def test_every_mart_declares_checks_of_its_grain_and_volume():
    checks = load_checks()
    for mart in MARTS:
        kinds = {check.kind for check in checks if check.table == mart.name}
        assert {"grain"} <= kinds, mart.name
        if mart.name != "dim_date":  # dim_date grows, never loses days but to a rebuild
            assert "volume" in kinds, mart.name
    assert len({(check.table, check.name) for check in checks}) == len(checks)


def test_every_check_renders_for_spark_and_athena():
    for check in load_checks():
        if check.sql:
            assert render(check.sql, "spark") and render(check.sql, "athena"), check.name
