"""What reports and the SQL console need of a query backend."""

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import ClassVar, TypeVar

import pyarrow as pa

ERROR_TIMEOUT = "The query was stopped after {seconds:g} s (the console's time limit)."

T = TypeVar("T")


class QueryError(Exception):
    """The query was refused or failed; the message says why."""


class QueryEngine(ABC):
    """Runs one read-only SELECT on the marts at a set of lake snapshots.

    ``snapshots`` maps table identifiers (``marts.fact_sales``) to Iceberg
    snapshot ids, as a pipeline run recorded them; None means the published
    ones. Parameters are bound (``$name`` or ``?``), never pasted into SQL.
    """

    name: ClassVar[str]
    dialect: ClassVar[str]  # what the SQL it runs is written in, for people

    def __init__(self, snapshots: dict[str, int] | None = None) -> None:
        self.snapshots = snapshots
        # The last query's figures (Athena: bytes scanned, cost), for the page showing its rows.
        self.last_statistics: dict = {}

    @abstractmethod
    def execute(self, sql: str, parameters: list | dict | None = None) -> pa.Table:
        """The result of one SELECT; ``QueryError`` if refused or failed."""

    def sql_as_sent(self, sql: str, parameters: list | dict | None = None) -> str:
        """The SQL this engine runs for ``sql`` (shown under a report)."""
        return sql

    @abstractmethod
    def execute_capped(
        self, sql: str, *, limit: int, timeout: float, max_bytes: int | None = None
    ) -> pa.Table:
        """The first ``limit`` rows of one SELECT (the SQL console's query);
        ``QueryError`` if refused, failed, larger than ``max_bytes``, or still
        running after ``timeout`` seconds."""


def run_with_timeout(
    run: Callable[[], T], *, stop: Callable[[], None], close: Callable[[], None], timeout: float
) -> T:
    """``run()`` in a thread; past ``timeout`` seconds ``stop()`` it and raise
    ``QueryError``. ``close()`` releases the connection once ``run`` has returned."""
    outcome: dict = {}

    def target() -> None:
        try:
            outcome["value"] = run()
        except BaseException as error:  # re-raised in the caller's thread
            outcome["error"] = error

    worker = threading.Thread(target=target, name="query", daemon=True)
    try:
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            stop()
            worker.join(5)  # a stopped query ends within moments
            raise QueryError(ERROR_TIMEOUT.format(seconds=timeout))
    finally:
        if not worker.is_alive():
            close()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
