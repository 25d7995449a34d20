"""Audit before publish (write-audit-publish): a run's checks, run on the tables
as the run wrote them, recorded with the run.

The marts are read at their current snapshots (what the run wrote, not yet
published) by their plain names, staging as ``staging_<table>`` (the source
as the run read it), ``run_clock`` as the run's clock: the names the checks
of ``lake/core/sql/marts/*.checks.toml`` use. A check that fails at error
severity (or cannot run) keeps the run from publishing: readers go on
seeing the last published run, and the next run starts from it.
"""

from datetime import datetime

import pyarrow as pa
from django.conf import settings
from django.db import transaction
from pyiceberg.table import Table

from lake.catalog import current_snapshot_ids, load_table
from lake.core.checks import CheckResult, Volume, load_checks, run_checks
from lake.core.marts import MARTS
from lake.core.tables import register_snapshot
from lake.models import PipelineCheck, PipelineRun
from lake.pipeline.transform import Transform

# Tests only: LAKE_FAULT_INJECTION=marts:duplicate writes one fact_sales row twice.
DUPLICATE_FAULT = "marts:duplicate"


class ChecksFailed(Exception):
    """Checks of error severity failed: the run is not published (the message names them)."""


def tables_audit(
    transform: Transform, *, published: dict[str, int], deleted: dict[str, int]
) -> list[CheckResult]:
    """Run every check on what the run wrote, in the transform's DuckDB (which
    has staging as the run left it and the run's clock)."""
    if settings.LAKE_FAULT_INJECTION == DUPLICATE_FAULT:
        _duplicate_a_row(load_table("marts.fact_sales"))
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
    return run_checks(load_checks(), lambda sql: transform.query(sql).to_pylist(), volume)


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


def _duplicate_a_row(table: Table | None) -> None:
    if table is None or table.current_snapshot() is None:
        return
    row = table.scan(limit=1).to_arrow()
    if row.num_rows:
        table.append(pa.Table.from_batches(row.to_batches(), schema=row.schema))
