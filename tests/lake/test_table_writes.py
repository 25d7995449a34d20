"""Writes to lake tables: a merge is one snapshot, and what it leaves stays small."""

from datetime import date

import pyarrow as pa
import pytest
from pyiceberg.expressions import AlwaysTrue, EqualTo, In

from lake.catalog import ensure_table, load_table
from lake.catalog import sql as sql_catalog
from lake.core import iceberg_backports, table_writes
from lake.core.table_writes import replace_rows
from lake.core.tables import data_files
from tests.overrides import assert_override_current

SCHEMA = pa.schema(
    [pa.field("rental_id", pa.int64(), nullable=False), pa.field("rental_date", pa.date32()),
     pa.field("amount", pa.int64())]
)  # fmt: skip


def rows(*values: tuple[int, date, int]) -> pa.Table:
    ids, dates, amounts = zip(*values, strict=True) if values else ((), (), ())
    return pa.table([list(ids), list(dates), list(amounts)], schema=SCHEMA)


def contents(table) -> list[tuple]:
    table.refresh()
    data = table.scan().to_arrow().sort_by("rental_id")
    return list(zip(*(data[name].to_pylist() for name in SCHEMA.names), strict=True))


@pytest.fixture
def rentals(lake):
    table = ensure_table("staging.rentals_test", SCHEMA, month_partition="rental_date")
    replace_rows(table, rows(
        (1, date(2005, 5, 1), 10), (2, date(2005, 5, 2), 20), (3, date(2005, 6, 1), 30),
    ), AlwaysTrue())  # fmt: skip
    table.refresh()
    return table


def test_a_merge_is_one_snapshot_and_its_partition_one_file(rentals):
    before = len(rentals.snapshots())

    changed = rows((2, date(2005, 5, 2), 25), (4, date(2005, 5, 9), 40))
    replace_rows(rentals, changed, In("rental_id", {2, 4}))

    rentals.refresh()
    assert len(rentals.snapshots()) == before + 1
    assert contents(rentals) == [
        (1, date(2005, 5, 1), 10), (2, date(2005, 5, 2), 25),
        (3, date(2005, 6, 1), 30), (4, date(2005, 5, 9), 40),
    ]  # fmt: skip
    # May's file was rewritten with the new rows in it; June's was left alone.
    assert len(data_files(rentals, rentals.current_snapshot().snapshot_id)) == 2
    assert rentals.current_snapshot().summary["deleted-data-files"] == "1"


def test_new_keys_only_are_appended_and_deletes_only_remove(rentals):
    replace_rows(rentals, rows((5, date(2005, 7, 1), 50)), EqualTo("rental_id", 5))
    rentals.refresh()
    assert rentals.current_snapshot().summary.operation.value == "append"

    replace_rows(rentals, rows(), In("rental_id", {1, 3}))

    assert contents(rentals) == [(2, date(2005, 5, 2), 20), (5, date(2005, 7, 1), 50)]


def test_a_merge_that_matches_nothing_and_adds_nothing_commits_nothing(rentals):
    before = rentals.current_snapshot().snapshot_id

    replace_rows(rentals, rows(), EqualTo("rental_id", 99))

    rentals.refresh()
    assert rentals.current_snapshot().snapshot_id == before


def test_a_transaction_reads_its_metadata_once_until_it_changes(rentals, monkeypatch):
    calls = []
    original = iceberg_backports.update_table_metadata
    monkeypatch.setattr(
        iceberg_backports, "update_table_metadata",
        lambda *args, **kwargs: calls.append(1) or original(*args, **kwargs),
    )  # fmt: skip
    transaction = rentals.transaction()

    first = transaction.table_metadata
    assert transaction.table_metadata is first
    assert len(calls) == 1
    transaction.set_properties({"owner": "lake"})

    assert transaction.table_metadata.properties["owner"] == "lake"
    assert len(calls) == 2
    assert "owner" not in first.properties  # what was read before is not changed


def test_a_table_committed_here_loads_without_reading_its_metadata_file(rentals, monkeypatch):
    replace_rows(rentals, rows((6, date(2005, 8, 1), 60)), EqualTo("rental_id", 6))

    def unread(*args, **kwargs):
        raise AssertionError("the metadata file just written was parsed again")

    monkeypatch.setattr(sql_catalog.FromInputFile, "table_metadata", unread)
    assert load_table("staging.rentals_test").metadata_location == rentals.metadata_location


def test_rows_changed_in_place_again_and_again_keep_one_manifest(rentals):
    for amount in range(10):
        replace_rows(rentals, rows((2, date(2005, 5, 2), amount)), EqualTo("rental_id", 2))

    rentals.refresh()
    assert len(rentals.current_snapshot().manifests(rentals.io)) == 1
    assert contents(rentals)[1] == (2, date(2005, 5, 2), 9)


def test_replacing_every_row_reads_no_file(rentals, monkeypatch):
    def unread(*args, **kwargs):
        raise AssertionError("a file whose rows all go was read")

    monkeypatch.setattr(table_writes.ArrowScan, "to_table", unread)

    replace_rows(rentals, rows((7, date(2005, 9, 1), 70)), AlwaysTrue())

    monkeypatch.undo()
    assert contents(rentals) == [(7, date(2005, 9, 1), 70)]


def test_the_table_writes_match_the_installed_pyiceberg():
    from pyiceberg.expressions import visitors
    from pyiceberg.io import pyarrow as pyiceberg_arrow
    from pyiceberg.table.update import snapshot

    assert_override_current(
        table_writes,
        "pyiceberg",
        {
            visitors._StrictMetricsEvaluator: {
                "__init__": ("self", "schema", "expr", "case_sensitive", "include_empty_files"),
                "eval": ("self", "file"),
            },
            pyiceberg_arrow: {
                "_dataframe_to_data_files": ("table_metadata", "df", "io", "write_uuid", "counter"),
                "_expression_to_complementary_pyarrow": ("expr", "schema"),
            },
            snapshot._OverwriteFiles: {
                "__init__": (
                    "self", "operation", "transaction", "io", "commit_uuid",
                    "snapshot_properties", "branch",
                ),
            },
            snapshot._MergeAppendFiles: {
                "__init__": (
                    "self", "operation", "transaction", "io", "branch", "commit_uuid",
                    "snapshot_properties",
                ),
                "_process_manifests": ("self", "manifests"),
            },
        },
    )  # fmt: skip


def test_the_backported_metadata_cache_matches_the_installed_pyiceberg():
    from pyiceberg.table import Transaction

    assert_override_current(iceberg_backports, "pyiceberg", {Transaction: {"table_metadata": None}})
