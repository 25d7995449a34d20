"""Stage: merge each extract into ``staging.<table>`` by primary key.

The change a run makes is what differs from the last *published* state
(the staging snapshot of the last successful run), not from the table's
current state: a failed run may have merged rows already, and the run
after it must still see them as changes to rebuild the marts from.
Merging is delete-then-insert on the changed keys, so doing it twice gives
the same table.
"""

from dataclasses import dataclass

import duckdb
import pyarrow as pa
from django.db import connection, models
from pyiceberg.expressions import AlwaysTrue, And, BooleanExpression, EqualTo, In, Or
from pyiceberg.table import Table

from lake.catalog import ensure_table
from lake.core.table_writes import replace_rows
from lake.core.tables import register_snapshot
from lake.pipeline.extract import Extract
from lake.pipeline.schemas import (
    EXCLUDED_COLUMNS,
    FULLY_EXTRACTED,
    STAGING_PARTITIONS,
    primary_key,
    staging_schema,
)


@dataclass
class Staged:
    changed: pa.Table  # rows new, changed or deleted since the published state
    rows: int | None  # rows in staging now (None: not looked at, unchanged)
    deleted: int = 0  # of the changed rows, those deleted at the source


def stage_table(
    model: type[models.Model],
    extract: Extract,
    *,
    published_snapshot: int | None,
    full: bool,
    staged_rows: int | None = None,
) -> Staged:
    """Merge the extract into staging, and remove the rows deleted at the source.

    ``staged_rows`` is what staging held when the last run published. Rows
    deleted at the source leave no trace to extract: when the source counts
    fewer rows than staging holds (or staging's count is not known), the
    source's keys are read and staging's rows without one are deleted; they
    count as changed (their old values), so the marts drop what they built.
    """
    name = extract.table
    unchanged = not full and name not in FULLY_EXTRACTED and not extract.rows.num_rows
    if unchanged and extract.source_rows in (None, staged_rows):
        return Staged(extract.rows, staged_rows)  # nothing read, nothing deleted
    table = ensure_table(f"staging.{name}", staging_schema(model), STAGING_PARTITIONS.get(name))
    table = without_excluded_columns(table, name)
    if full:
        replace_rows(table, extract.rows, AlwaysTrue())
        return Staged(extract.rows, extract.rows.num_rows)
    previous = (table, published_snapshot)
    if name in FULLY_EXTRACTED:
        # Rows added or removed since the published state both change the marts.
        changed = changed_rows(extract.rows, previous, removed_too=True)
        if changed.num_rows:
            replace_rows(table, extract.rows, AlwaysTrue())
        return Staged(changed, extract.rows.num_rows)
    keys = primary_key(model)
    changed = changed_rows(extract.rows, previous, keys)
    if changed.num_rows:
        replace_rows(table, changed, key_filter(keys, changed))
    if extract.source_rows is not None and _row_count(table) != extract.source_rows:
        deleted = deleted_rows(table, name, keys)
        if deleted.num_rows:
            replace_rows(table, deleted.schema.empty_table(), key_filter(keys, deleted))
            changed = pa.concat_tables([changed, deleted.cast(changed.schema)])
        return Staged(changed, _row_count(table), deleted.num_rows)
    return Staged(changed, _row_count(table))


def without_excluded_columns(table: Table, name: str) -> Table:
    """A staging table made before its source's secrets were left out of the
    lake loses those columns (older snapshots keep them until they expire)."""
    kept_out = EXCLUDED_COLUMNS.get(name, frozenset())
    if present := [column for column in kept_out if column in table.schema().column_names]:
        with table.update_schema() as update:
            for column in sorted(present):
                update.delete_column(column)
        table = table.refresh()
    return table


def _row_count(table: Table) -> int | None:
    snapshot = table.current_snapshot()
    if snapshot is None:
        return 0
    total = snapshot.summary and snapshot.summary.get("total-records")
    return int(total) if total is not None else None


def deleted_rows(table: Table, name: str, keys: list[str]) -> pa.Table:
    """Staging's rows whose key is no longer in the source table.

    The keys are read after the run's consistent read: a row deleted since is
    removed a run early, one added since is not in staging yet either way.
    """
    quoted = ", ".join(connection.ops.quote_name(key) for key in keys)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quoted} FROM {connection.ops.quote_name(name)}")
        rows = cursor.fetchall()
    source = pa.table(
        {key: pa.array([row[i] for row in rows], pa.int64()) for i, key in enumerate(keys)}
    )
    with duckdb.connect() as con:
        register_snapshot(con, "staged", table, table.current_snapshot().snapshot_id)
        con.register("source", source)
        on = " and ".join(f"s.{key} = k.{key}" for key in keys)
        sql = f"select s.* from staged as s anti join source as k on {on}"
        return con.sql(sql).to_arrow_table()


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
