"""Audit before publish (write-audit-publish): a run's checks, run on the tables
as the run wrote them, recorded with the run.

The marts are read at their current snapshots (what the run wrote, not yet
published) by their plain names, staging as ``staging_<table>`` (the source
as the run read it), ``run_clock`` as the run's clock: the names the checks
of ``lake/core/sql/marts/*.checks.toml`` use. A check that fails at error
severity (or cannot run) keeps the run from publishing: readers go on
seeing the last published run, and the next run starts from it.
"""

import re
from dataclasses import replace
from datetime import datetime

import pyarrow as pa
from django.conf import settings
from django.db import transaction
from pyiceberg.table import Table

from lake.catalog import current_snapshot_ids, load_table
from lake.core.checks import (
    DUPLICATE_FAULT,
    Check,
    CheckResult,
    Volume,
    load_checks,
    relationship_sql,
    run_checks,
)
from lake.core.marts import DIM_DATE, MARTS, SQL_MARTS, Mart
from lake.core.tables import register_snapshot
from lake.models import PipelineCheck, PipelineRun
from lake.pipeline.transform import MARTS_BY_NAME, SCHEMAS, Transform

SQL_MARTS_BY_NAME = {mart.name: mart for mart in SQL_MARTS}
INLINE_KEYS = 10_000  # more: a semi-join on the keys table


class ChecksFailed(Exception):
    """Checks of error severity failed: the run is not published (the message names them)."""


def tables_audit(
    transform: Transform, *, published: dict[str, int], deleted: dict[str, int]
) -> list[CheckResult]:
    """Run every check on what the run wrote, in the transform's DuckDB (which
    has staging as the run left it and the run's clock)."""
    if settings.LAKE_FAULT_INJECTION == DUPLICATE_FAULT:
        _duplicate_a_row(load_table("marts.fact_sales"), transform)
    rows, published_rows = {}, {}
    for mart in MARTS:
        table = load_table(mart.identifier)
        snapshot = table.current_snapshot() if table is not None else None
        if snapshot is None:
            transform.con.register(mart.name, mart.schema.empty_table())
        else:
            register_snapshot(transform.con, mart.name, table, snapshot.snapshot_id)
        rows[mart.name] = _records(table, snapshot.snapshot_id if snapshot else None) or 0
        published_rows[mart.name] = _records(table, published.get(mart.identifier))
    volume = Volume(rows=rows, published_rows=published_rows, deleted=deleted)
    checks = load_checks()
    if not transform.full:
        scope = RunScope(transform, dim_date_rebuilt=bool({"rental", "payment"} & set(deleted)))
        checks = [scope.check(check, checks) for check in checks]
    return run_checks(checks, lambda sql: transform.query(sql).to_pylist(), volume)


class RunScope:
    """An incremental run's checks on the rows it wrote, not whole tables.

    A run replaces a mart's rows per key (``<mart>_keys``: the keys it rewrote
    or deleted) and the last published run passed every check, so the rows of
    other keys still pass. A row-level check (grain, range, accepted,
    relationship) reads ``scoped_<mart>``: the mart's rows of those keys (and
    any without a key) and the rows pointing at keys the run deleted from a
    table the mart points at (read once). A reconcile declared ``scoped``
    compares both sides over the keys the run wrote (each relation it reads
    that has the mart's key column, restricted to them). The others, and
    every check of a full run, read whole tables. What this trusts is the
    keys' SQL: a change no key caught is for a full run (``lake run --full``)
    to find.
    """

    def __init__(self, transform: Transform, *, dim_date_rebuilt: bool) -> None:
        self.transform = transform
        self.dim_date_rebuilt = dim_date_rebuilt  # it has no keys: days may have gone
        self.scoped: set[str] = set()
        self.conditions: dict[tuple, str] = {}
        self.views = 0
        for mart in SQL_MARTS:
            if mart.name not in transform.registered_keys:  # the run rewrote none
                empty = pa.schema([mart.schema.field(mart.key)]).empty_table()
                transform.con.register(f"{mart.name}_keys", empty)
                transform.registered_keys.add(mart.name)

    def check(self, check: Check, checks: list[Check]) -> Check:
        """``check`` as this run runs it."""
        mart = SQL_MARTS_BY_NAME.get(check.table)
        if mart is None or check.kind == "volume" or not self._scopable(check):
            return check
        if check.kind != "reconcile":
            rows = self._rows_of(mart, checks)
            if check.kind == "relationship":
                sql = relationship_sql(rows, check.column, check.to)
            else:
                sql = re.sub(rf"\b{check.table}\b", rows, check.sql)
            return replace(check, sql=_scoped_note(mart) + sql)
        sql = check.sql
        for name in {*MARTS_BY_NAME, *(f"staging_{table}" for table in SCHEMAS)}:
            if re.search(rf"\b{name}\b", sql) and mart.key in _columns(name):
                self.views += 1
                view = f"scoped_{self.views}"
                written = self._in(mart.key, mart) or "false"
                self.transform.create_view(view, f"select * from {name} where {written}")
                sql = re.sub(rf"\b{name}\b", view, sql)
        return replace(check, sql=_scoped_note(mart) + sql)

    def _scopable(self, check: Check) -> bool:
        if check.kind == "reconcile":
            return check.scoped
        if check.kind != "relationship":
            return True
        target, _, target_column = check.to.partition(".")
        if target == DIM_DATE.name:  # no keys: days are only added, unless rows were deleted
            return not self.dim_date_rebuilt
        pointed = SQL_MARTS_BY_NAME.get(target)
        return pointed is not None and pointed.key == target_column

    def _rows_of(self, mart: Mart, checks: list[Check]) -> str:
        """``scoped_<mart>``: the rows the mart's row-level checks read (made once)."""
        name = f"scoped_{mart.name}"
        if mart.name not in self.scoped:
            # Rows without a key, or of a key the run wrote, ...
            conditions = [f"{mart.key} is null", self._in(mart.key, mart)]
            for check in checks:  # ... or pointing at a key it deleted
                if check.table == mart.name and check.kind == "relationship":
                    pointed = SQL_MARTS_BY_NAME.get(check.to.partition(".")[0])
                    if pointed is not None and self._scopable(check):
                        conditions.append(self._in(check.column, pointed, deleted=True))
            conditions = [condition for condition in conditions if condition]
            # One scan per condition, each row once: a scan on one column's values
            # skips the row groups whose bounds exclude them, where an "or" would read all.
            scans = [
                f"select * from {mart.name} where ({condition})"
                + "".join(f" and not coalesce({earlier}, false)" for earlier in conditions[:n])
                for n, condition in enumerate(conditions)
            ]
            self.transform.con.execute(
                f"create temp table {name} as " + "\nunion all\n".join(scans)
            )
            self.scoped.add(mart.name)
        return name

    def _in(self, column: str, mart: Mart, *, deleted: bool = False) -> str:
        """``column`` among the keys the run wrote in ``mart`` (or of those, the
        ones it deleted); "" when there are none. A short list of ids is
        inline: DuckDB skips the Parquet row groups whose bounds exclude them."""
        asked = (column, mart.name, deleted)
        if asked not in self.conditions:
            self.conditions[asked] = self._condition(column, mart, deleted)
        return self.conditions[asked]

    def _condition(self, column: str, mart: Mart, deleted: bool) -> str:
        keys = f"select distinct {mart.key} from {mart.name}_keys as k"
        if deleted:
            keys += (
                f" where not exists (select 1 from {mart.name} as m"
                f" where m.{mart.key} = k.{mart.key})"
            )
        ids = [row[0] for row in self.transform.con.sql(keys).fetchall()]
        if not ids:
            return ""
        if len(ids) <= INLINE_KEYS and all(type(value) is int for value in ids):
            return f"{column} in ({', '.join(map(str, ids))})"
        self.views += 1
        listed = f"scoped_keys_{self.views}"
        self.transform.con.execute(f"create temp table {listed} as {keys}")
        return f"{column} in (select {mart.key} from {listed})"


def _columns(relation: str) -> set[str]:
    if relation.startswith("staging_"):
        return set(SCHEMAS[relation.removeprefix("staging_")].names)
    return set(MARTS_BY_NAME[relation].schema.names)


def _scoped_note(mart: Mart) -> str:
    return f"-- incremental run: the rows of the {mart.key}s it wrote (scoped_*)\n"


def checks_record(run: PipelineRun, results: list[CheckResult]) -> None:
    """The results, with the run, replacing any recorded before."""
    with transaction.atomic():
        run.checks.all().delete()
        PipelineCheck.objects.bulk_create(
            PipelineCheck(
                run=run,
                table=result.check.table,
                name=result.check.name,
                kind=result.check.kind,
                severity=result.check.severity,
                status=result.status,
                failing=result.failing,
                rows=result.rows,
                sql=result.check.sql,
                message=result.message,
                seconds=result.seconds,
            )
            for result in results
        )


def checks_conclude(
    run: PipelineRun, results: list[CheckResult], watermarks: dict[str, datetime]
) -> str:
    """Record a run's check results (any engine's); their summary when the run
    may publish. Otherwise ``ChecksFailed``, with what the run wrote and read up
    to kept on it, not published: a manager may publish it anyway
    (``services.pipeline_run_publish_anyway``)."""
    checks_record(run, results)
    if not any(result.blocks_publish for result in results):
        return checks_summary(results)
    run.snapshots = current_snapshot_ids()
    run.watermarks_to = {
        **run.watermarks_from,
        **{name: value.isoformat(" ") for name, value in watermarks.items()},
    }
    raise ChecksFailed(checks_failed_message(results))


def checks_summary(results: list[CheckResult]) -> str:
    """ "56 checks: 54 passed, 1 failed, 1 warned"."""
    counts: dict[str, int] = {}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    parts = [f"{count} {status}" for status, count in counts.items()]
    return f"{len(results)} checks: {', '.join(parts)}"


def checks_failed_message(results: list[CheckResult]) -> str:
    blocking = [result for result in results if result.blocks_publish]
    named = "; ".join(
        f"{r.check.table}: {r.check.name}"
        + (f" ({r.failing:,} rows)" if r.failing else f" ({r.message})" if r.message else "")
        for r in blocking[:5]
    )
    more = f" and {len(blocking) - 5} more" if len(blocking) > 5 else ""
    return (
        f"{len(blocking)} of {len(results)} checks failed, so nothing was published: {named}{more}."
    )


def _records(table: Table | None, snapshot_id: int | None) -> int | None:
    if table is None or snapshot_id is None:
        return None
    snapshot = table.snapshot_by_id(snapshot_id)
    total = snapshot.summary.get("total-records") if snapshot and snapshot.summary else None
    return int(total) if total is not None else None


def _duplicate_a_row(table: Table | None, transform: Transform) -> None:
    """One row twice, written as by the run: in an incremental run, its rental
    is among those the run wrote (a defect of the run's own)."""
    if table is None or table.current_snapshot() is None:
        return
    row = table.scan(limit=1).to_arrow()
    if not row.num_rows:
        return
    table.append(pa.Table.from_batches(row.to_batches(), schema=row.schema))
    if not transform.full:
        written = row.select(["rental_id"])
        if "fact_sales" in transform.registered_keys:
            keys = transform.con.sql("select rental_id from fact_sales_keys").to_arrow_table()
            written = pa.concat_tables([keys, written.cast(keys.schema)])
        transform.con.register("fact_sales_keys", written)
        transform.registered_keys.add("fact_sales")
