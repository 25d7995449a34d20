"""The Iceberg catalog and the lake's tables.

The embedded default is pyiceberg's SQL catalog (a SQLite file) with the
warehouse on the local disk; the tables are the same Iceberg tables that
the Glue Data Catalog holds on S3 in production (``LAKE_CATALOG=glue``).

The rest of the app names tables by zone ("staging.rental",
"marts.fact_sales"); only this module knows that in Glue they live in the
databases "<GLUE_DATABASE>_staging" and "<GLUE_DATABASE>_marts".
"""

from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
from django.conf import settings
from pyarrow import fs
from pyiceberg.catalog import Catalog
from pyiceberg.catalog.sql import IcebergTables, SqlCatalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.io import load_file_io
from pyiceberg.io.pyarrow import PyArrowFileIO
from pyiceberg.serializers import FromInputFile
from pyiceberg.table import CommitTableResponse, Table
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.transforms import MonthTransform
from sqlalchemy import select
from sqlalchemy.orm import Session

from lake import iceberg_backports

iceberg_backports.apply()

NAMESPACES = ("staging", "marts")
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


class CatalogUnavailable(Exception):
    """The lake's catalog could not be read (the message says why and where)."""


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
    """The lake's Iceberg catalog, its namespaces created if missing.

    Tables in it have the catalog's names: go through the functions below,
    which take the lake's ("staging.rental"), rather than use it directly.
    """
    if settings.LAKE_CATALOG == "glue":
        return _glue_catalog(
            settings.AWS_REGION, settings.AWS_ENDPOINT_URL, warehouse_uri(), settings.GLUE_DATABASE
        )
    return _sql_catalog(settings.LAKE_CATALOG_URI, warehouse_uri())


class _SqlCatalog(SqlCatalog):
    """pyiceberg's SQL catalog, parsing each metadata file once per process.

    A run loads the same tables many times, and parsing a table's metadata
    costs more the more snapshots it keeps. A metadata file never changes
    (every commit writes a new one), so its parsed form is kept by location.
    """

    METADATA_CACHED = 256

    def __init__(self, name: str, **properties: str) -> None:
        super().__init__(name, **properties)
        self._metadata: OrderedDict[str, TableMetadata] = OrderedDict()

    def _convert_orm_to_iceberg(self, orm_table) -> Table:
        location = orm_table.metadata_location
        if not location:
            return super()._convert_orm_to_iceberg(orm_table)  # its error
        metadata = self._metadata.get(location)
        if metadata is None:
            io = load_file_io(properties=self.properties, location=location)
            metadata = FromInputFile.table_metadata(io.new_input(location))
            self._remember(location, metadata)
        namespace = Catalog.identifier_to_tuple(orm_table.table_namespace)
        return Table(
            identifier=(*namespace, orm_table.table_name),
            metadata=metadata,
            metadata_location=location,
            io=self._load_file_io(metadata.properties, location),
            catalog=self,
        )

    def commit_table(self, table, requirements, updates) -> CommitTableResponse:
        """Commit, keeping the new metadata: the next load of the table needs
        no parse of the file just written."""
        response = super().commit_table(table, requirements, updates)
        self._remember(response.metadata_location, response.metadata)
        return response

    def _remember(self, location: str, metadata: TableMetadata) -> None:
        self._metadata[location] = metadata
        while len(self._metadata) > self.METADATA_CACHED:
            self._metadata.popitem(last=False)

    def load_all(self) -> dict[str, Table]:
        """Every table of the catalog, by "<namespace>.<name>", in one query."""
        with Session(self.engine) as session:
            rows = session.scalars(
                select(IcebergTables).where(IcebergTables.catalog_name == self.name)
            ).all()
        return {f"{row.table_namespace}.{row.table_name}": self._convert_orm_to_iceberg(row)
                for row in rows}  # fmt: skip


@lru_cache(maxsize=4)
def _sql_catalog(uri: str, warehouse: str) -> Catalog:
    if warehouse.startswith("file://"):
        Path(warehouse.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return _with_namespaces(_SqlCatalog("sakila", uri=uri, warehouse=warehouse))


@lru_cache(maxsize=4)
def _glue_catalog(region: str, endpoint_url: str, warehouse: str, database: str) -> Catalog:
    # ``database`` is not read here: it keys the cache, as the namespaces depend on it.
    from pyiceberg.catalog.glue import GlueCatalog  # imports boto3: only when configured

    # Credentials: boto3's chain for Glue and the AWS SDK's for S3 (pyarrow),
    # the same environment or role. The endpoints are set only in tests (moto).
    properties = {
        "warehouse": warehouse,
        "glue.region": region,
        "s3.region": region,
        "glue.retry-mode": "adaptive",
    }
    if endpoint_url:
        properties |= {"glue.endpoint": endpoint_url, "s3.endpoint": endpoint_url}
    return _with_namespaces(GlueCatalog("sakila", **properties))


def catalog_cache_clear() -> None:
    """Forget the catalogs made so far (a test that reset moto's Glue, for one)."""
    _sql_catalog.cache_clear()
    _glue_catalog.cache_clear()


def _with_namespaces(catalog: Catalog) -> Catalog:
    for namespace in NAMESPACES:
        # Look first: creating needs a permission that reading the lake does not.
        if not catalog.namespace_exists(catalog_namespace(namespace)):
            catalog.create_namespace_if_not_exists(catalog_namespace(namespace))
    return catalog


def catalog_identifier(identifier: str) -> tuple[str, str]:
    """The catalog's identifier of a lake table: "marts.fact_sales" is
    ("sakila_marts", "fact_sales") in Glue."""
    namespace, dot, name = identifier.partition(".")
    if not dot or not name or namespace not in NAMESPACES:
        raise ValueError(
            f"not a lake table: {identifier!r} (expected <zone>.<table>, zone one of "
            f"{', '.join(NAMESPACES)})"
        )
    return catalog_namespace(namespace), name


def load_table(identifier: str) -> Table | None:
    try:
        return get_catalog().load_table(catalog_identifier(identifier))
    except NoSuchTableError:
        return None


def ensure_table(identifier: str, schema: pa.Schema, month_partition: str | None = None) -> Table:
    """The table, created (with a month partition on that column) if it does not exist."""
    table = load_table(identifier)
    if table is not None:
        return _without_excluded_columns(table, identifier)
    table = get_catalog().create_table(
        catalog_identifier(identifier), schema=schema, properties=TABLE_PROPERTIES
    )
    if month_partition:
        with table.update_spec() as spec:
            spec.add_field(month_partition, MonthTransform(), f"{month_partition}_month")
    return table


def _without_excluded_columns(table: Table, identifier: str) -> Table:
    """A staging table made before its source's secrets were left out of the
    lake loses those columns (older snapshots keep them until they expire)."""
    from lake.schemas import EXCLUDED_COLUMNS

    namespace, _, name = identifier.partition(".")
    kept_out = EXCLUDED_COLUMNS.get(name, frozenset()) if namespace == "staging" else ()
    if present := [column for column in kept_out if column in table.schema().column_names]:
        with table.update_schema() as update:
            for column in sorted(present):
                update.delete_column(column)
        table = table.refresh()
    return table


def lake_tables() -> list[str]:
    """Identifiers of every table in the catalog ("staging.rental"...), staging first."""
    catalog = get_catalog()
    return [
        f"{namespace}.{name}"
        for namespace in NAMESPACES
        for _, name in sorted(catalog.list_tables(catalog_namespace(namespace)))
    ]


def current_snapshot_ids() -> dict[str, int]:
    """Each lake table's current snapshot id (tables without one are left out)."""
    catalog = get_catalog()
    if isinstance(catalog, _SqlCatalog):  # one query (a run publishes this every time)
        tables = catalog.load_all()
    else:
        tables = {identifier: load_table(identifier) for identifier in lake_tables()}
    snapshots = {}
    for identifier, table in tables.items():
        snapshot = table.current_snapshot() if table is not None else None
        if snapshot is not None and identifier.partition(".")[0] in NAMESPACES:
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
