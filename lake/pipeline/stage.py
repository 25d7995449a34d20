"""Stage: merge each extract into ``staging.<table>`` by primary key.

The change a run makes is what differs from the last *published* state
(the staging snapshot of the last successful run), not from the table's
current state: a failed run may have merged rows already, and the run
after it must still see them as changes to rebuild the marts from.
Merging is delete-then-insert on the changed keys, so doing it twice gives
the same table.
"""

import duckdb
import pyarrow as pa
from django.db import models
from pyiceberg.expressions import AlwaysTrue, And, BooleanExpression, EqualTo, In, Or
from pyiceberg.table import Table

from lake.catalog import ensure_table, register_snapshot, replace_rows
from lake.pipeline.extract import Extract
from lake.schemas import FULLY_EXTRACTED, STAGING_PARTITIONS, primary_key, staging_schema


def stage_table(
    model: type[models.Model], extract: Extract, *, published_snapshot: int | None, full: bool
) -> pa.Table:
    """Merge the extract into staging; return the rows that changed."""
    if not full and extract.table not in FULLY_EXTRACTED and not extract.rows.num_rows:
        return extract.rows  # nothing read, nothing to merge
    table = ensure_table(
        f"staging.{extract.table}", staging_schema(model), STAGING_PARTITIONS.get(extract.table)
    )
    if full:
        replace_rows(table, extract.rows, AlwaysTrue())
        return extract.rows
    previous = (table, published_snapshot)
    if extract.table in FULLY_EXTRACTED:
        # Rows added or removed since the published state both change the marts.
        changed = changed_rows(extract.rows, previous, removed_too=True)
        if changed.num_rows:
            replace_rows(table, extract.rows, AlwaysTrue())
        return changed
    keys = primary_key(model)
    changed = changed_rows(extract.rows, previous, keys)
    if changed.num_rows:
        replace_rows(table, changed, key_filter(keys, changed))
    return changed


def changed_rows(
    extracted: pa.Table,
    previous: tuple[Table, int | None],
    keys: list[str] | None = None,
    *,
    removed_too: bool = False,
) -> pa.Table:
    """Extracted rows that are not, identically, in the previous state (the
    table at a snapshot; none: empty) among rows with the ``keys`` that were
    read, and with ``removed_too`` also the previous rows no longer there."""
    table, snapshot_id = previous
    with duckdb.connect() as con:
        con.register("extracted", extracted)
        if snapshot_id is None:
            con.register("previous", extracted.schema.empty_table())
        else:
            register_snapshot(con, "previous", table, snapshot_id)
        if removed_too:
            sql = (
                "(select * from extracted except select * from previous) union all "
                "(select * from previous except select * from extracted)"
            )
        else:
            on = " and ".join(f"p.{key} = e.{key}" for key in keys)
            sql = (
                "select * from extracted except "
                f"select p.* from previous as p semi join extracted as e on {on}"
            )
        return con.sql(sql).to_arrow_table().cast(extracted.schema)


def key_filter(keys: list[str], rows: pa.Table) -> BooleanExpression:
    """An Iceberg filter matching the rows' primary keys."""
    if len(keys) == 1:
        return In(keys[0], set(rows[keys[0]].to_pylist()))
    tuples = set(zip(*(rows[key].to_pylist() for key in keys), strict=True))
    terms = [
        And(*(EqualTo(key, value) for key, value in zip(keys, values, strict=True)))
        for values in tuples
    ]
    return terms[0] if len(terms) == 1 else Or(*terms)
