"""The SQL console's rules (/lake/sql/): one read-only SELECT on the marts, at the
published snapshots, with a row limit and a time limit.

The query engine does the refusing: one SELECT only (``check_single_select``),
and only the marts can be read. On DuckDB external access is off and its
configuration locked, so a query cannot write, read files or URLs, or reach
the rental database; on Athena every table must be a mart, pinned to its
snapshot. A query still running at the time limit is stopped (DuckDB
interrupted, Athena's query stopped).
"""

import time
from dataclasses import dataclass, field

from lake.marts import MARTS
from lake.query import QueryError, get_query_engine

ROW_LIMIT = 1000  # rows shown on the page
EXPORT_ROW_LIMIT = 100_000  # rows in a CSV download
TIMEOUT_SECONDS = 10

ERROR_EMPTY = "Write a SELECT to run."


@dataclass(frozen=True)
class ConsoleResult:
    columns: list[str]
    rows: list[tuple]
    capped: bool  # the query returned more than ``limit`` rows; only the first are here
    limit: int
    seconds: float
    statistics: dict = field(default_factory=dict)  # the engine's figures (Athena: cost)


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
    sql: str, *, limit: int = ROW_LIMIT, timeout: float | None = None
) -> ConsoleResult:
    """The first ``limit`` rows of one SELECT; ``QueryError`` when refused, failed or too slow."""
    timeout = TIMEOUT_SECONDS if timeout is None else timeout
    if not sql.strip():
        raise QueryError(ERROR_EMPTY)
    started = time.monotonic()
    engine = get_query_engine()
    # One row past the limit tells whether there were more.
    table = engine.execute_capped(sql, limit=limit + 1, timeout=timeout)
    rows = list(zip(*(column.to_pylist() for column in table.columns), strict=True))
    return ConsoleResult(
        columns=table.column_names,
        rows=rows[:limit],
        capped=len(rows) > limit,
        limit=limit,
        seconds=time.monotonic() - started,
        statistics=engine.last_statistics,
    )
