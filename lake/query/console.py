"""The SQL console's rules (its page /lake/sql/, ``reports.console_views``, and
``lake query``): one read-only SELECT on the marts, at the published
snapshots or an earlier run's, within limits of rows, result bytes, memory
and time.

The query engine does the refusing: one SELECT only (``check_single_select``),
and only the marts can be read. On DuckDB the console's queries share one
database per process with a memory limit and no file or network access; the
result is read in record batches and refused once past the byte limit,
before the rest is read. On Athena every table must be a mart, pinned to its
snapshot. A query still running at the time limit is stopped (DuckDB
interrupted, Athena's query stopped). Lists, structs and maps come back as text.
"""

import time
from dataclasses import dataclass, field

from django.conf import settings

from lake.core.marts import MARTS
from lake.models import PipelineRun
from lake.query import QueryError, get_query_engine

ROW_LIMIT = 1000  # rows shown on the page
EXPORT_ROW_LIMIT = 100_000  # rows in a CSV download (and ``lake query``)
HISTORY_LENGTH = 10  # queries remembered per user (in their session)
HISTORY_KEY = "sql_console_history"

ERROR_EMPTY = "Write a SELECT to run."


@dataclass(frozen=True)
class ConsoleResult:
    columns: list[str]
    rows: list[tuple]
    capped: bool  # the query returned more than ``limit`` rows; only the first are here
    limit: int
    seconds: float
    statistics: dict = field(default_factory=dict)  # the engine's figures (Athena: cost)
    run_id: int | None = None  # the run whose snapshots were read (None: the published)


@dataclass(frozen=True)
class MartHelp:
    name: str
    columns: list[tuple[str, str]]  # (name, type)


def console_mart_list() -> list[MartHelp]:
    """The tables a console query can read, with their columns (from the mart schemas)."""
    return [
        MartHelp(mart.name, [(field.name, str(field.type)) for field in mart.schema])
        for mart in MARTS
    ]


def console_query_run(
    sql: str,
    *,
    limit: int = ROW_LIMIT,
    timeout: float | None = None,
    max_bytes: int | None = None,
    as_of_run: PipelineRun | None = None,
) -> ConsoleResult:
    """The first ``limit`` rows of one SELECT; ``QueryError`` when refused, failed,
    too large (``max_bytes``, default ``SQL_CONSOLE_MAX_BYTES``) or too slow."""
    timeout = settings.SQL_CONSOLE_TIMEOUT_SECONDS if timeout is None else timeout
    max_bytes = settings.SQL_CONSOLE_MAX_BYTES if max_bytes is None else max_bytes
    if not sql.strip():
        raise QueryError(ERROR_EMPTY)
    started = time.monotonic()
    engine = get_query_engine(as_of_run.snapshots if as_of_run is not None else None)
    # One row past the limit tells whether there were more.
    table = engine.execute_capped(sql, limit=limit + 1, timeout=timeout, max_bytes=max_bytes)
    rows = list(zip(*(column.to_pylist() for column in table.columns), strict=True))
    return ConsoleResult(
        columns=table.column_names,
        rows=rows[:limit],
        capped=len(rows) > limit,
        limit=limit,
        seconds=time.monotonic() - started,
        statistics=engine.last_statistics,
        run_id=as_of_run.pk if as_of_run is not None else None,
    )


def console_history_add(session, sql: str) -> list[str]:
    """Remember ``sql`` first in the user's short history (no duplicates)."""
    history = [query for query in session.get(HISTORY_KEY, []) if query != sql]
    history = [sql, *history][:HISTORY_LENGTH]
    session[HISTORY_KEY] = history
    return history


def console_history_list(session) -> list[str]:
    return list(session.get(HISTORY_KEY, []))
