"""Run read-only SQL on the marts, in DuckDB, at a published snapshot.

Each mart is registered under its plain name (``fact_sales``, ``dim_film``):
local Parquet files of its snapshot are read by DuckDB's own Parquet reader
(a view, with ``allowed_paths`` listing exactly those files), others through
an Arrow dataset. DuckDB gets no other file or network access, so a query
can read the marts and nothing else.

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
from lake.catalog import data_files, load_table, snapshot_dataset, warehouse_uri
from lake.query.base import QueryEngine, QueryError, run_with_timeout

ERROR_NOT_ONE_SELECT = "Only a single SELECT statement can run on the lake (found: {found})."
ERROR_NO_DATA = "The lake has no data yet: run the pipeline first (python manage.py lake run)."


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

    def execute_capped(self, sql: str, *, limit: int, timeout: float) -> pa.Table:
        # DuckDB has no statement timeout: the query is interrupted when time is up.
        check_single_select(sql)
        query = without_trailing_semicolon(sql)
        con = self.connect(sql)
        try:
            return run_with_timeout(
                # The relation wraps the query as a subquery.
                lambda: con.sql(query).limit(limit).to_arrow_table(),
                stop=con.interrupt,
                close=con.close,
                timeout=timeout,
            )
        except duckdb.Error as error:
            raise QueryError(str(error).split("\n")[0]) from None


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
    "mart_source",
    "without_trailing_semicolon",
]
