"""Run read-only SQL on the marts, in DuckDB, at a published snapshot.

Each mart is registered under its plain name (``fact_sales``, ``dim_film``)
as an Arrow dataset of the Parquet files of its snapshot; DuckDB itself gets
no file or network access, so a query can read the marts and nothing else.
"""

import duckdb
import pyarrow as pa

from lake import selectors
from lake.catalog import load_table, snapshot_dataset
from lake.query.base import QueryEngine, QueryError

ERROR_NOT_ONE_SELECT = "Only a single SELECT statement can run on the lake (found: {found})."
ERROR_NO_DATA = "The lake has no data yet: run the pipeline first (python manage.py lake run)."


class DuckDBQueryEngine(QueryEngine):
    name = "duckdb"

    def __init__(self, snapshots: dict[str, int] | None = None) -> None:
        super().__init__(selectors.published_snapshots() if snapshots is None else snapshots)

    def connect(self) -> duckdb.DuckDBPyConnection:
        marts = {k: v for k, v in self.snapshots.items() if k.startswith("marts.")}
        if not marts:
            raise QueryError(ERROR_NO_DATA)
        con = duckdb.connect()
        for identifier, snapshot_id in marts.items():
            table = load_table(identifier)
            if table is not None:
                con.register(identifier.split(".", 1)[1], snapshot_dataset(table, snapshot_id))
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        return con

    def execute(self, sql: str, parameters: list | dict | None = None) -> pa.Table:
        check_single_select(sql)
        with self.connect() as con:
            try:
                return con.sql(sql, params=parameters).to_arrow_table()
            except duckdb.Error as error:
                raise QueryError(str(error).split("\n")[0]) from None


def check_single_select(sql: str) -> None:
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as error:
        raise QueryError(str(error).split("\n")[0]) from None
    kinds = [statement.type.name for statement in statements]
    if kinds != ["SELECT"]:
        raise QueryError(ERROR_NOT_ONE_SELECT.format(found=", ".join(kinds) or "nothing"))


ENGINE = DuckDBQueryEngine
__all__ = ["ENGINE", "DuckDBQueryEngine", "QueryError", "check_single_select"]
