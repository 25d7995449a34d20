"""Run read-only SQL on the marts, in DuckDB, at a published snapshot.

Each mart is registered under its plain name (``fact_sales``, ``dim_film``):
local Parquet files of its snapshot are read by DuckDB's own Parquet reader
(a view, with ``allowed_paths`` listing exactly those files), others through
an Arrow dataset. DuckDB gets no other file or network access, so a query
can read the marts and nothing else.

The SQL console's queries (``execute_capped``) run on one DuckDB database per
process (``console_database``), bounded in memory and threads, each query on a
cursor of its own with the marts registered on that cursor only; the result
is read in record batches and refused once it passes a size.

Snapshots never change, so each mart's files at a snapshot (its Iceberg
metadata read and its scan planned) are found once per process and reused;
a query registers only the marts it names.
"""

import re
import threading
from collections import OrderedDict

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
from django.conf import settings

from lake import selectors
from lake.catalog import load_table, warehouse_uri
from lake.core.tables import data_files, snapshot_dataset
from lake.query.base import QueryEngine, QueryError, run_with_timeout

ERROR_NOT_ONE_SELECT = "Only a single SELECT statement can run on the lake (found: {found})."
ERROR_NO_DATA = "The lake has no data yet: run the pipeline first (python manage.py lake run)."
ERROR_TOO_LARGE = (
    "The result is larger than {size} MB, the most a query may return here: select fewer "
    "rows or columns, or shorten long values (left(column, 100))."
)
ERROR_OUT_OF_MEMORY = (
    "The query needs more than the {size} MB of memory that queries may use here: filter or "
    "aggregate more, or select fewer or shorter values."
)
# Nested results (lists, structs, maps) are shown and exported as text.
NESTED_TYPES = frozenset({"list", "struct", "map", "array", "union"})
BATCH_ROWS = 64  # rows per record batch read from a console query


class DuckDBQueryEngine(QueryEngine):
    name = "duckdb"
    dialect = "DuckDB"

    def __init__(self, snapshots: dict[str, int] | None = None) -> None:
        super().__init__(selectors.published_snapshots() if snapshots is None else snapshots)

    def connect(self, sql: str | None = None) -> duckdb.DuckDBPyConnection:
        """A connection with the marts registered: those ``sql`` names, or all."""
        marts = {k: v for k, v in self.snapshots.items() if k.startswith("marts.")}
        if not marts:
            raise QueryError(ERROR_NO_DATA)
        if sql is not None:
            named = set(re.findall(r"[a-z_][a-z0-9_]*", sql.lower()))
            marts = {k: v for k, v in marts.items() if k.split(".", 1)[1] in named}
        con = duckdb.connect()
        allowed: list[str] = []
        for identifier, snapshot_id in marts.items():
            name = identifier.split(".", 1)[1]
            source = mart_source(identifier, snapshot_id)
            if source is None:
                continue
            if isinstance(source, tuple):  # local Parquet files
                con.read_parquet(list(source)).create_view(name)
                allowed.extend(source)
            else:
                con.register(name, source)
        if allowed:
            paths = ", ".join("'" + path.replace("'", "''") + "'" for path in allowed)
            con.execute(f"SET allowed_paths = [{paths}]")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        return con

    def execute(self, sql: str, parameters: list | dict | None = None) -> pa.Table:
        check_single_select(sql)
        with self.connect(sql) as con:
            try:
                return con.sql(sql, params=parameters).to_arrow_table()
            except duckdb.Error as error:
                raise QueryError(str(error).split("\n")[0]) from None

    def execute_capped(
        self, sql: str, *, limit: int, timeout: float, max_bytes: int | None = None
    ) -> pa.Table:
        """On the shared console database, read in record batches: past ``max_bytes``
        the query is refused (``ERROR_TOO_LARGE``) before more is read; past
        ``timeout`` seconds it is interrupted (DuckDB has no statement timeout)."""
        check_single_select(sql)
        query = without_trailing_semicolon(sql)
        cursor = self.console_cursor(sql)

        def read() -> pa.Table:
            # The relation wraps the query as a subquery.
            relation = nested_as_text(cursor.sql(query)).limit(limit)
            reader = relation.to_arrow_reader(BATCH_ROWS)
            batches, size = [], 0
            for batch in reader:
                size += batch.nbytes
                if max_bytes is not None and size > max_bytes:
                    cursor.interrupt()
                    raise QueryError(ERROR_TOO_LARGE.format(size=round(max_bytes / 2**20)))
                batches.append(batch)
            return pa.Table.from_batches(batches, schema=reader.schema)

        try:
            return run_with_timeout(
                read, stop=cursor.interrupt, close=cursor.close, timeout=timeout
            )
        except duckdb.OutOfMemoryException:
            limit_mb = settings.SQL_CONSOLE_MEMORY_LIMIT_MB
            raise QueryError(ERROR_OUT_OF_MEMORY.format(size=limit_mb)) from None
        except duckdb.Error as error:
            raise QueryError(str(error).split("\n")[0]) from None

    def console_cursor(self, sql: str) -> duckdb.DuckDBPyConnection:
        """A cursor of the shared console database with the marts ``sql`` names
        registered on it (as Arrow datasets: the database reads no files itself)."""
        marts = {k: v for k, v in self.snapshots.items() if k.startswith("marts.")}
        if not marts:
            raise QueryError(ERROR_NO_DATA)
        named = set(re.findall(r"[a-z_][a-z0-9_]*", sql.lower()))
        cursor = console_database().cursor()
        for identifier, snapshot_id in marts.items():
            name = identifier.split(".", 1)[1]
            if name not in named:
                continue
            source = mart_source(identifier, snapshot_id)
            if source is None:
                continue
            if isinstance(source, tuple):  # local Parquet files
                source = ds.dataset(list(source), format="parquet")
            cursor.register(name, source)
        return cursor


def nested_as_text(relation: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """``relation`` with its list, struct and map columns cast to text."""
    types = [str(column_type.id) for column_type in relation.types]
    if not NESTED_TYPES.intersection(types):
        return relation
    columns = []
    for name, kind in zip(relation.columns, types, strict=True):
        quoted = '"' + name.replace('"', '""') + '"'
        columns.append(f"cast({quoted} as varchar) as {quoted}" if kind in NESTED_TYPES else quoted)
    return relation.project(", ".join(columns))


_CONSOLE_DATABASE: tuple[tuple, duckdb.DuckDBPyConnection] | None = None
_CONSOLE_DATABASE_LOCK = threading.Lock()


def console_database() -> duckdb.DuckDBPyConnection:
    """The process's one in-memory DuckDB database for console queries.

    Its memory limit (``SQL_CONSOLE_MEMORY_LIMIT_MB``) bounds all its queries
    together, and its threads (``SQL_CONSOLE_THREADS``) the cores they take;
    it has no file or network access and its configuration is locked. Each
    query takes a cursor (its own connection to this database, safe to use
    in its own thread), so views registered by one query are not seen by
    another. https://duckdb.org/docs/stable/clients/python/dbapi#cursors
    """
    global _CONSOLE_DATABASE
    key = (settings.SQL_CONSOLE_MEMORY_LIMIT_MB, settings.SQL_CONSOLE_THREADS)
    with _CONSOLE_DATABASE_LOCK:
        if _CONSOLE_DATABASE is None or _CONSOLE_DATABASE[0] != key:
            database = duckdb.connect(
                config={
                    "memory_limit": f"{key[0]}MB",
                    "threads": key[1],
                    "enable_external_access": False,
                    # Give memory back after a large query, not only at exit.
                    "allocator_flush_threshold": "32MB",
                    "allocator_bulk_deallocation_flush_threshold": "32MB",
                    "lock_configuration": True,
                }
            )
            _CONSOLE_DATABASE = (key, database)
        return _CONSOLE_DATABASE[1]


_SOURCES: OrderedDict[tuple, tuple[str, ...] | ds.Dataset] = OrderedDict()
_SOURCES_LOCK = threading.Lock()
SOURCES_KEPT = 64  # marts x snapshots: a few runs' worth, for time travel


def mart_source(identifier: str, snapshot_id: int) -> tuple[str, ...] | ds.Dataset | None:
    """The mart at a snapshot: its local Parquet paths, or else an Arrow dataset
    (remote files, or no files: an empty table). Found once per process; None
    if the table does not exist."""
    key = (settings.LAKE_CATALOG_URI, warehouse_uri(), identifier, snapshot_id)
    with _SOURCES_LOCK:
        if key in _SOURCES:
            _SOURCES.move_to_end(key)
            return _SOURCES[key]
    table = load_table(identifier)
    if table is None:
        return None
    files = data_files(table, snapshot_id)
    if files and all(path.startswith("file://") for path in files):
        source = tuple(path.removeprefix("file://") for path in files)
    else:
        source = snapshot_dataset(table, snapshot_id)
    with _SOURCES_LOCK:
        _SOURCES[key] = source
        while len(_SOURCES) > SOURCES_KEPT:
            _SOURCES.popitem(last=False)
    return source


def check_single_select(sql: str) -> None:
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as error:
        raise QueryError(str(error).split("\n")[0]) from None
    kinds = [statement.type.name for statement in statements]
    if kinds != ["SELECT"]:
        raise QueryError(ERROR_NOT_ONE_SELECT.format(found=", ".join(kinds) or "nothing"))


def without_trailing_semicolon(sql: str) -> str:
    """The query without the ``;`` and comments after it (they break a subquery)."""
    end = len(sql)
    for position, kind in reversed(duckdb.tokenize(sql)):
        text = sql[position:end].strip()
        if kind.name == "comment" or (kind.name == "operator" and text == ";"):
            end = position
        else:
            break
    return sql[:end].rstrip()


ENGINE = DuckDBQueryEngine
__all__ = [
    "ENGINE",
    "DuckDBQueryEngine",
    "QueryError",
    "check_single_select",
    "console_database",
    "mart_source",
    "without_trailing_semicolon",
]
