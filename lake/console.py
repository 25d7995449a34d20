"""The SQL console's rules (/lake/sql/): one read-only SELECT on the marts, at the
published snapshots, with a row limit and a time limit.

The query engine does the refusing: one SELECT only (``check_single_select``),
DuckDB with external access off and its configuration locked, and only the
marts registered, so a query cannot write, read files or URLs, or reach the
rental database. DuckDB has no statement timeout: the query runs in a thread
and is interrupted when the time is up.
"""

import threading
import time
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from lake.marts import MARTS
from lake.query.base import QueryError
from lake.query.duckdb import DuckDBQueryEngine, check_single_select

ROW_LIMIT = 1000  # rows shown on the page
EXPORT_ROW_LIMIT = 100_000  # rows in a CSV download
TIMEOUT_SECONDS = 10

ERROR_EMPTY = "Write a SELECT to run."
ERROR_TIMEOUT = "The query was stopped after {seconds:g} s (the console's time limit)."


@dataclass(frozen=True)
class ConsoleResult:
    columns: list[str]
    rows: list[tuple]
    capped: bool  # the query returned more than ``limit`` rows; only the first are here
    limit: int
    seconds: float


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
    check_single_select(sql)
    query = _without_trailing_semicolon(sql)
    con = DuckDBQueryEngine().connect()
    outcome: dict = {}

    def run() -> None:
        try:
            # The relation wraps the query as a subquery: LIMIT limit + 1 tells "more".
            outcome["table"] = con.sql(query).limit(limit + 1).to_arrow_table()
        except duckdb.Error as error:
            outcome["error"] = error

    started = time.monotonic()
    worker = threading.Thread(target=run, name="sql-console", daemon=True)
    try:
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            con.interrupt()
            worker.join(5)  # an interrupted query stops within milliseconds
            raise QueryError(ERROR_TIMEOUT.format(seconds=timeout))
    finally:
        if not worker.is_alive():
            con.close()
    if "error" in outcome:
        raise QueryError(str(outcome["error"]).split("\n")[0])
    table: pa.Table = outcome["table"]
    rows = list(zip(*(column.to_pylist() for column in table.columns), strict=True))
    return ConsoleResult(
        columns=table.column_names,
        rows=rows[:limit],
        capped=len(rows) > limit,
        limit=limit,
        seconds=time.monotonic() - started,
    )


def _without_trailing_semicolon(sql: str) -> str:
    """The query without the ``;`` and comments after it (they break a subquery)."""
    end = len(sql)
    for position, kind in reversed(duckdb.tokenize(sql)):
        text = sql[position:end].strip()
        if kind.name == "comment" or (kind.name == "operator" and text == ";"):
            end = position
        else:
            break
    return sql[:end].rstrip()
