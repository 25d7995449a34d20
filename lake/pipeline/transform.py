"""Transform: rebuild the marts' rows whose sources changed, in DuckDB.

Each mart's keys SQL finds the keys to rebuild from the run's changed rows;
its SQL builds those rows from staging; the rows replace the old ones for
those keys in one Iceberg commit (delete then insert), so a rerun writes
the same rows again. In a full run every key is rebuilt and rows whose
sources were deleted disappear. A mart whose keys SQL reads only tables
with no changed rows is skipped without reading staging at all. Keys that
several marts need (``keys/address_keys.sql``) are computed once, when a
query first names them.
"""

import re
from dataclasses import dataclass
from datetime import datetime

import duckdb
import pyarrow as pa
from pyiceberg.expressions import AlwaysTrue, In

from lake.catalog import ensure_table, load_table
from lake.core.dates import days_sql, dim_date_additions, dim_date_rows
from lake.core.marts import DIM_DATE, MARTS, RUN_CLOCK, SQL_DIR, Mart
from lake.core.table_writes import replace_rows
from lake.core.tables import files_added_since, register_snapshot
from lake.pipeline.schemas import STAGED_MODELS, staging_schema, table_name

SCHEMAS = {table_name(model): staging_schema(model) for model in STAGED_MODELS}
# Keys that several marts' keys SQL share (``address_keys``): run once, on demand.
SHARED_KEYS_DIR = SQL_DIR / "keys"
MARTS_BY_NAME = {mart.name: mart for mart in MARTS}


@dataclass
class MartResult:
    rows: int  # rows written
    files: int  # data files written


class Transform:
    """DuckDB with ``changed_<table>`` (this run's changed rows) and, as SQL
    needs them, ``staging_<table>`` (staging as the run left it).

    In a full run every row counts as changed: ``changed_<table>`` is then
    staging itself, so the run need not keep the extracted rows in memory.
    ``run_clock`` holds ``as_of``, the time fees of open rentals accrue to;
    ``mart_<name>`` is a mart as it stood before the run.
    """

    def __init__(
        self,
        changed: dict[str, pa.Table] | None,
        *,
        full: bool,
        as_of: datetime,
        deleted: set[str] = frozenset(),
    ) -> None:
        self.full = full
        self.changed = changed or {}
        self.deleted = deleted  # tables whose changed rows include rows deleted at the source
        self.con = duckdb.connect()
        self.staging: set[str] = set()
        self.marts: set[str] = set()
        self.registered_keys: set[str] = set()
        self.con.register("run_clock", pa.table({"as_of": [as_of]}, schema=RUN_CLOCK))
        if not full:
            for name, schema in SCHEMAS.items():
                self.con.register(f"changed_{name}", self.changed.get(name, schema.empty_table()))

    def __enter__(self) -> "Transform":
        return self

    def __exit__(self, *exc_info) -> None:
        self.con.close()

    def query(self, sql: str) -> pa.Table:
        self._register_relations(sql)
        return self.con.sql(sql).to_arrow_table()

    def create_view(self, name: str, sql: str) -> None:
        """``name`` as a view of ``sql`` (which may read what ``query`` may)."""
        self._register_relations(sql)
        self.con.execute(f"create or replace temp view {name} as {sql}")

    def _register_relations(self, sql: str) -> None:
        for name in set(re.findall(r"\b(\w+)_keys\b", sql)) - self.registered_keys:
            if (shared := SHARED_KEYS_DIR / f"{name}_keys.sql").is_file():
                self.con.register(f"{name}_keys", self.query(shared.read_text()))
                self.registered_keys.add(name)
        staging = re.findall(r"\bstaging_(\w+)", sql)
        if self.full:
            staging += re.findall(r"\bchanged_(\w+)", sql)
        for name in set(re.findall(r"\bmart_(\w+)", sql)) - self.marts:
            mart = MARTS_BY_NAME[name]
            table = load_table(mart.identifier)
            snapshot = table.current_snapshot() if table is not None else None
            if snapshot is None:
                self.con.register(f"mart_{name}", mart.schema.empty_table())
            else:
                register_snapshot(self.con, f"mart_{name}", table, snapshot.snapshot_id)
            self.marts.add(name)
        for name in set(staging) - self.staging:
            table = load_table(f"staging.{name}")
            snapshot = table.current_snapshot() if table is not None else None
            if snapshot is None:
                self.con.register(f"staging_{name}", SCHEMAS[name].empty_table())
            else:
                register_snapshot(self.con, f"staging_{name}", table, snapshot.snapshot_id)
            self.staging.add(name)
            if self.full:
                self.con.execute(f"create view changed_{name} as select * from staging_{name}")

    def nothing_changed_for(self, sql: str) -> bool:
        """Whether every changed_<table> the SQL reads (itself or through
        shared keys such as address_keys) is empty."""
        for name in re.findall(r"\b(\w+)_keys\b", sql):
            if (shared := SHARED_KEYS_DIR / f"{name}_keys.sql").is_file():
                sql += "\n" + shared.read_text()
        tables = set(re.findall(r"\bchanged_(\w+)", sql))
        return all(not self.changed.get(name, pa.table({})).num_rows for name in tables)

    def build_mart(self, mart: Mart) -> MartResult:
        table = ensure_table(mart.identifier, mart.schema, mart.month_partition)
        # Keys that read the clock can change with no row changed (fees accrue).
        timely = "run_clock" in mart.keys_sql
        if not self.full and not timely and self.nothing_changed_for(mart.keys_sql):
            return MartResult(0, 0)
        keys = self.query(mart.keys_sql)
        if not self.full and not keys.num_rows:
            return MartResult(0, 0)
        self.con.register(f"{mart.name}_keys", keys)
        self.registered_keys.add(mart.name)
        rows = self.query(mart.sql).select(mart.schema.names).cast(mart.schema)
        before = table.current_snapshot()
        condition = AlwaysTrue() if self.full else In(mart.key, set(keys[mart.key].to_pylist()))
        replace_rows(table, rows, condition)
        return MartResult(rows.num_rows, files_added_since(table, before and before.snapshot_id))

    def build_dim_date(self) -> MartResult:
        """Every day from the first to the last rental or payment; new days are appended."""
        table = ensure_table(DIM_DATE.identifier, DIM_DATE.schema)
        # Deleted rentals or payments may shrink the range: rebuild it whole, from staging.
        rebuild = self.full or bool({"rental", "payment"} & set(self.deleted))
        sql = days_sql(changed=not rebuild)
        if not rebuild and self.nothing_changed_for(sql):
            return MartResult(0, 0)
        first, last = self.query(sql).to_pylist()[0].values()
        if first is None:
            return MartResult(0, 0)
        before = table.current_snapshot()
        if rebuild:
            rows = dim_date_rows(first, last)
            replace_rows(table, rows, AlwaysTrue())
        else:
            existing = set(
                table.scan(selected_fields=("date_id",)).to_arrow()["date_id"].to_pylist()
            )
            rows = dim_date_additions(first, last, existing)
            if not rows.num_rows:
                return MartResult(0, 0)
            table.append(rows)
        return MartResult(rows.num_rows, files_added_since(table, before and before.snapshot_id))


def marts_reset_to_published(published: dict[str, int]) -> None:
    """Put back each mart an earlier run wrote without publishing (it failed,
    or its checks did) to its published snapshot: a run builds on what readers
    see, never on rows no check let through."""
    for mart in MARTS:
        snapshot_id = published.get(mart.identifier)
        table = load_table(mart.identifier)
        current = table.current_snapshot() if table is not None else None
        if snapshot_id is not None and current is not None and current.snapshot_id != snapshot_id:
            table.manage_snapshots().set_current_snapshot(snapshot_id).commit()
