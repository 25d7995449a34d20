"""pyiceberg's SQL catalog (a SQLite file beside the warehouse): the embedded default.

Its tables have the schema of Iceberg's JDBC catalog, so Spark's JDBC
catalog can read and write the same lake.

The catalog keeps each metadata file it parsed by overriding pyiceberg's
private ``SqlCatalog._convert_orm_to_iceberg`` (a catalog row to a Table)
and calling its ``_load_file_io``; tests/lake/test_catalog_sql.py fails
when pyiceberg is no longer the version this was written for.
"""

from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from pyiceberg.catalog import Catalog
from pyiceberg.catalog.sql import IcebergTables, SqlCatalog
from pyiceberg.io import load_file_io
from pyiceberg.serializers import FromInputFile
from pyiceberg.table import CommitTableResponse, Table
from pyiceberg.table.metadata import TableMetadata
from sqlalchemy import select
from sqlalchemy.orm import Session

from lake.core.tables import ensure_namespaces

OVERRIDES_WRITTEN_FOR = {"pyiceberg": "0.12.0"}
CATALOG_NAME = "sakila"  # the rows' catalog_name: Spark's catalog must have the same name


def namespace(zone: str) -> str:
    """The catalog's name for a lake namespace: the zone's own."""
    return zone


def catalog(warehouse: str, namespaces: tuple[str, ...]) -> Catalog:
    """The catalog (one per database and warehouse), ``namespaces`` created if missing."""
    return _sql_catalog(settings.LAKE_CATALOG_URI, warehouse, namespaces)


def tables_by_identifier(catalog: Catalog) -> dict[str, Table]:
    """Every table of the catalog, by "<namespace>.<name>", in one query."""
    return catalog.load_all()


def cache_clear() -> None:
    _sql_catalog.cache_clear()


def spark_catalog(warehouse: str) -> tuple[str, dict[str, str]]:
    """The name and properties of the same catalog for Iceberg's Spark runtime:
    its JDBC catalog, on the SQLite file pyiceberg writes (``jdbc.schema-version``
    V1: pyiceberg's tables have the ``iceberg_type`` column of that version)."""
    uri = settings.LAKE_CATALOG_URI
    if not uri.startswith("sqlite:///"):
        raise ValueError(f"Spark reaches a SQL catalog on SQLite only, not {uri!r}")
    return CATALOG_NAME, {
        "catalog-impl": "org.apache.iceberg.jdbc.JdbcCatalog",
        "uri": "jdbc:sqlite:" + str(Path(uri.removeprefix("sqlite:///")).resolve()),
        "jdbc.schema-version": "V1",
        "warehouse": warehouse,
    }


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
def _sql_catalog(uri: str, warehouse: str, namespaces: tuple[str, ...]) -> Catalog:
    if warehouse.startswith("file://"):
        Path(warehouse.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return ensure_namespaces(_SqlCatalog(CATALOG_NAME, uri=uri, warehouse=warehouse), namespaces)
