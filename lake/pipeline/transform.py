"""Transform: rebuild the marts' rows whose sources changed, in DuckDB.

Each mart's keys SQL finds the keys to rebuild from the run's changed rows;
its SQL builds those rows from staging; the rows replace the old ones for
those keys in one Iceberg commit (delete then insert), so a rerun writes
the same rows again. In a full run every key is rebuilt and rows whose
sources were deleted disappear.
"""

from dataclasses import dataclass

import duckdb
import pyarrow as pa
from pyiceberg.expressions import AlwaysTrue, In

from lake.catalog import (
    ensure_table,
    files_added_since,
    load_table,
    replace_rows,
    snapshot_dataset,
)
from lake.marts import DIM_DATE, Mart
from lake.pipeline.dates import dim_date_rows
from lake.schemas import STAGED_MODELS, staging_schema, table_name


@dataclass
class MartResult:
    rows: int  # rows written
    files: int  # data files written


def transform_connection(changed: dict[str, pa.Table]) -> duckdb.DuckDBPyConnection:
    """DuckDB with ``staging_<table>`` (current staging) and ``changed_<table>`` views."""
    con = duckdb.connect()
    for model in STAGED_MODELS:
        name = table_name(model)
        table = load_table(f"staging.{name}")
        snapshot = table.current_snapshot() if table is not None else None
        staging = (
            snapshot_dataset(table, snapshot.snapshot_id)
            if snapshot is not None
            else staging_schema(model).empty_table()
        )
        con.register(f"staging_{name}", staging)
        con.register(f"changed_{name}", changed.get(name, staging_schema(model).empty_table()))
    return con


def build_mart(con: duckdb.DuckDBPyConnection, mart: Mart, *, full: bool) -> MartResult:
    keys = con.sql(mart.keys_sql).to_arrow_table()
    con.register(f"{mart.name}_keys", keys)
    table = ensure_table(mart.identifier, mart.schema, mart.month_partition)
    if not full and not keys.num_rows:
        return MartResult(0, 0)
    rows = con.sql(mart.sql).to_arrow_table().select(mart.schema.names).cast(mart.schema)
    before = table.current_snapshot()
    condition = AlwaysTrue() if full else In(mart.key, set(keys[mart.key].to_pylist()))
    replace_rows(table, rows, condition)
    return MartResult(rows.num_rows, files_added_since(table, before and before.snapshot_id))


def build_dim_date(con: duckdb.DuckDBPyConnection, *, full: bool) -> MartResult:
    """Every day from the first to the last rental date; new days are appended."""
    first, last = con.execute(
        "select min(cast(rental_date as date)), max(cast(rental_date as date)) from staging_rental"
    ).fetchall()[0]
    table = ensure_table(DIM_DATE.identifier, DIM_DATE.schema)
    if first is None:
        return MartResult(0, 0)
    rows = dim_date_rows(first, last)
    before = table.current_snapshot()
    if full:
        replace_rows(table, rows, AlwaysTrue())
    else:
        existing = set(table.scan(selected_fields=("date_id",)).to_arrow()["date_id"].to_pylist())
        rows = rows.filter(pa.array([d not in existing for d in rows["date_id"].to_pylist()]))
        if not rows.num_rows:
            return MartResult(0, 0)
        table.append(rows)
    return MartResult(rows.num_rows, files_added_since(table, before and before.snapshot_id))
