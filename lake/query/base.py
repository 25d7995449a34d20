"""What reports and the SQL console need of a query backend."""

from abc import ABC, abstractmethod
from typing import ClassVar

import pyarrow as pa


class QueryError(Exception):
    """The query was refused or failed; the message says why."""


class QueryEngine(ABC):
    """Runs one read-only SELECT on the marts at a set of lake snapshots.

    ``snapshots`` maps table identifiers (``marts.fact_sales``) to Iceberg
    snapshot ids, as a pipeline run recorded them; None means the published
    ones. Parameters are bound (``$name`` or ``?``), never pasted into SQL.
    """

    name: ClassVar[str]

    def __init__(self, snapshots: dict[str, int] | None = None) -> None:
        self.snapshots = snapshots

    @abstractmethod
    def execute(self, sql: str, parameters: list | dict | None = None) -> pa.Table:
        """The result of one SELECT; ``QueryError`` if refused or failed."""
