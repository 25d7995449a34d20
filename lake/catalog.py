"""The Iceberg catalog and the lake's tables.

The embedded default is pyiceberg's SQL catalog (a SQLite file) with the
warehouse on the local disk; the tables are the same Iceberg tables that
the Glue catalog holds on S3 in production.
"""

import warnings
from functools import lru_cache
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
from django.conf import settings
from pyarrow import fs
from pyiceberg.catalog import Catalog
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.expressions import BooleanExpression
from pyiceberg.table import Table
from pyiceberg.transforms import MonthTransform

NAMESPACES = ("staging", "marts")
# Copy-on-write rewrites whole files: smaller files keep incremental merges small.
TABLE_PROPERTIES = {"write.target-file-size-bytes": str(32 * 1024 * 1024)}


def catalog_namespace(namespace: str) -> str:
    """The catalog's name for a lake namespace ("staging", "marts", "raw"): as
    is in the SQL catalog, "<GLUE_DATABASE>_<namespace>" as a Glue database."""
    if settings.LAKE_CATALOG == "glue":
        return f"{settings.GLUE_DATABASE}_{namespace}"
    return namespace


def warehouse_uri() -> str:
    warehouse = settings.LAKE_WAREHOUSE
    if "://" in warehouse:
        return warehouse.rstrip("/")
    return Path(warehouse).resolve().as_uri()


def get_catalog() -> Catalog:
    return _catalog(settings.LAKE_CATALOG_URI, warehouse_uri())


@lru_cache(maxsize=4)
def _catalog(uri: str, warehouse: str) -> Catalog:
    if warehouse.startswith("file://"):
        Path(warehouse.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    catalog = SqlCatalog("sakila", uri=uri, warehouse=warehouse)
    for namespace in NAMESPACES:
        catalog.create_namespace_if_not_exists(namespace)
    return catalog


def load_table(identifier: str) -> Table | None:
    try:
        return get_catalog().load_table(identifier)
    except NoSuchTableError:
        return None


def ensure_table(identifier: str, schema: pa.Schema, month_partition: str | None = None) -> Table:
    """The table, created (with a month partition on that column) if it does not exist."""
    table = load_table(identifier)
    if table is not None:
        return table
    table = get_catalog().create_table(identifier, schema=schema, properties=TABLE_PROPERTIES)
    if month_partition:
        with table.update_spec() as spec:
            spec.add_field(month_partition, MonthTransform(), f"{month_partition}_month")
    return table


def replace_rows(table: Table, rows: pa.Table, condition: BooleanExpression) -> None:
    """Delete the rows matching ``condition`` and append ``rows``, in one commit."""
    if table.current_snapshot() is None:
        if rows.num_rows:
            table.append(rows)
        return
    with warnings.catch_warnings():
        # New keys match no existing row: expected, not worth a warning.
        warnings.filterwarnings("ignore", "Delete operation did not match any records")
        table.overwrite(rows, overwrite_filter=condition)


def lake_tables() -> list[str]:
    """Identifiers of every table in the catalog, staging first."""
    catalog = get_catalog()
    return [
        ".".join(identifier)
        for namespace in NAMESPACES
        for identifier in sorted(catalog.list_tables(namespace))
    ]


def current_snapshot_ids() -> dict[str, int]:
    snapshots = {}
    for identifier in lake_tables():
        snapshot = get_catalog().load_table(identifier).current_snapshot()
        if snapshot is not None:
            snapshots[identifier] = snapshot.snapshot_id
    return snapshots


def data_files(table: Table, snapshot_id: int | None) -> list[str]:
    """Paths of the Parquet files that make up ``table`` at a snapshot (none: empty).

    pyiceberg writes copy-on-write, so a snapshot is exactly its data files.
    """
    if snapshot_id is None:
        return []
    return [task.file.file_path for task in table.scan(snapshot_id=snapshot_id).plan_files()]


def snapshot_dataset(table: Table, snapshot_id: int | None) -> ds.Dataset:
    """The table at a snapshot as a lazily read Arrow dataset (DuckDB scans it)."""
    schema = table.schema().as_arrow()
    files = data_files(table, snapshot_id)
    if not files:
        return ds.dataset(schema.empty_table())
    filesystem, _ = fs.FileSystem.from_uri(files[0])
    paths = [fs.FileSystem.from_uri(path)[1] for path in files]
    return ds.dataset(paths, schema=schema, filesystem=filesystem, format="parquet")


def register_snapshot(
    con: duckdb.DuckDBPyConnection, name: str, table: Table, snapshot_id: int | None
) -> None:
    """Make ``name`` a view of the table at a snapshot in a DuckDB connection.

    Local files are read by DuckDB's own Parquet reader, which prunes row
    groups with the key ranges of the joins it runs; other files (or a
    connection without file access) go through an Arrow dataset.
    """
    files = data_files(table, snapshot_id)
    if files and all(path.startswith("file://") for path in files):
        local = [path.removeprefix("file://") for path in files]
        con.read_parquet(local).create_view(name, replace=True)
    else:
        con.register(name, snapshot_dataset(table, snapshot_id))


def files_added_since(table: Table, snapshot_id: int | None) -> int:
    """Data files the commits after ``snapshot_id`` wrote (what a step rewrote)."""
    table.refresh()
    added = 0
    for snapshot in reversed(table.snapshots()):
        if snapshot.snapshot_id == snapshot_id:
            break
        added += int((snapshot.summary and snapshot.summary.get("added-data-files")) or 0)
    return added
