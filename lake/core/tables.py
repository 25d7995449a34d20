"""An Iceberg table's snapshots as files, Arrow datasets and DuckDB views.

What every reader and writer of the lake needs of a table, whatever catalog
holds it: the properties tables are made with, the data files of a
snapshot, and a snapshot as something DuckDB can scan.
"""

import duckdb
import pyarrow.dataset as ds
from pyarrow import fs
from pyiceberg.catalog import Catalog
from pyiceberg.io.pyarrow import PyArrowFileIO
from pyiceberg.table import Table

TABLE_PROPERTIES = {
    # Copy-on-write rewrites whole files: smaller files keep incremental merges small.
    "write.target-file-size-bytes": str(32 * 1024 * 1024),
    # Every commit writes a metadata file: keep the last few, as Iceberg intends.
    "write.metadata.delete-after-commit.enabled": "true",
    "write.metadata.previous-versions-max": "5",
    # Each incremental run appends a manifest to the tables it changes; merging
    # them on append keeps a snapshot's manifest list (what every scan plans
    # from) as short as a fresh table's.
    "commit.manifest-merge.enabled": "true",
    "commit.manifest.min-count-to-merge": "2",
}


def ensure_namespaces(catalog: Catalog, namespaces: tuple[str, ...]) -> Catalog:
    """``catalog`` with ``namespaces`` created where missing."""
    for namespace in namespaces:
        # Look first: creating needs a permission that reading the lake does not.
        if not catalog.namespace_exists(namespace):
            catalog.create_namespace_if_not_exists(namespace)
    return catalog


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
    filesystem, paths = _file_paths(table, files)
    return ds.dataset(paths, schema=schema, filesystem=filesystem, format="parquet")


def _file_paths(table: Table, files: list[str]) -> tuple[fs.FileSystem, list[str]]:
    """A filesystem and the paths in it of a table's data files.

    Remote files are read with the table's own FileIO filesystem, which has
    the catalog's region and endpoint (pyarrow's own, from the URI alone,
    would look the bucket's region up on AWS itself).
    """
    scheme, netloc, _ = PyArrowFileIO.parse_location(files[0])
    if scheme != "file" and isinstance(table.io, PyArrowFileIO):
        paths = [PyArrowFileIO.parse_location(path)[2] for path in files]
        return table.io.fs_by_scheme(scheme, netloc), paths
    filesystem, _ = fs.FileSystem.from_uri(files[0])
    return filesystem, [fs.FileSystem.from_uri(path)[1] for path in files]


def register_snapshot(
    con: duckdb.DuckDBPyConnection, name: str, table: Table, snapshot_id: int | None
) -> None:
    """Make ``name`` a view of the table at a snapshot in a DuckDB connection.

    Local files are read by DuckDB's own Parquet reader, which prunes row
    groups with the key ranges of the joins it runs; other files (or a
    connection without file access) go through an Arrow dataset.
    """
    files = data_files(table, snapshot_id)
    if files and all(path.startswith("file:") for path in files):  # Spark writes file:/a/b
        local = ["/" + path.removeprefix("file:").lstrip("/") for path in files]
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
