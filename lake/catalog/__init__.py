"""The lake's Iceberg catalog: its tables by the lake's names.

``LAKE_CATALOG`` names a module of this package, each with the same four
functions (``namespace``, ``catalog``, ``tables_by_identifier``,
``cache_clear``): ``sql`` (pyiceberg's SQL catalog in a SQLite file, the
embedded default) or ``glue`` (the Glue Data Catalog on AWS). Adding a
catalog means adding a module.

The rest of the app names tables by zone ("staging.rental",
"marts.fact_sales"); only this package knows that in Glue they live in the
databases "<GLUE_DATABASE>_staging" and "<GLUE_DATABASE>_marts".
"""

import logging
from datetime import timedelta
from importlib import import_module
from pathlib import Path
from types import ModuleType

import pyarrow as pa
from django.conf import settings
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.table import Table
from pyiceberg.transforms import MonthTransform

from lake.core import iceberg_backports
from lake.core.snapshot_tags import tag_published
from lake.core.tables import TABLE_PROPERTIES

iceberg_backports.apply()
logger = logging.getLogger(__name__)

NAMESPACES = ("staging", "marts")
BACKENDS = ("sql", "glue")


class CatalogUnavailable(Exception):
    """The lake's catalog could not be read (the message says why and where)."""


def _backend() -> ModuleType:
    return import_module(f"{__name__}.{settings.LAKE_CATALOG}")


def catalog_namespace(namespace: str) -> str:
    """The catalog's name for a lake namespace ("staging", "marts", "raw"): as
    is in the SQL catalog, "<GLUE_DATABASE>_<namespace>" as a Glue database."""
    return _backend().namespace(namespace)


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
    backend = _backend()
    namespaces = tuple(backend.namespace(namespace) for namespace in NAMESPACES)
    return backend.catalog(warehouse_uri(), namespaces)


def spark_catalog() -> tuple[str, dict[str, str]]:
    """The name and Iceberg properties of this catalog for Spark (the Spark
    engine's jobs); a ValueError for a catalog Spark is not set up to reach."""
    backend = _backend()
    if not hasattr(backend, "spark_catalog"):
        raise ValueError(f"LAKE_CATALOG={settings.LAKE_CATALOG} is not reachable from Spark here")
    return backend.spark_catalog(warehouse_uri())


def catalog_cache_clear() -> None:
    """Forget the catalogs made so far (a test that reset moto's Glue, for one)."""
    for name in BACKENDS:
        import_module(f"{__name__}.{name}").cache_clear()


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
        return table
    table = get_catalog().create_table(
        catalog_identifier(identifier), schema=schema, properties=TABLE_PROPERTIES
    )
    if month_partition:
        with table.update_spec() as spec:
            spec.add_field(month_partition, MonthTransform(), f"{month_partition}_month")
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
    tables = _backend().tables_by_identifier(get_catalog())
    if tables is None:
        tables = {identifier: load_table(identifier) for identifier in lake_tables()}
    snapshots = {}
    for identifier, table in tables.items():
        snapshot = table.current_snapshot() if table is not None else None
        if snapshot is not None and identifier.partition(".")[0] in NAMESPACES:
            snapshots[identifier] = snapshot.snapshot_id
    return snapshots


def protect_published(
    snapshots: dict[str, int],
    *,
    previous: dict[str, int],
    previous_run: int | None,
    window: timedelta,
) -> None:
    """Tag each table's newly published snapshot, and keep the one it replaces
    for ``window`` (``lake.core.snapshot_tags``): no expiry, ours or Glue's
    optimizers', takes a snapshot a reader may still read. Only the tables
    whose snapshot changed are committed to; a failure is logged, and the next
    publish or maintenance tags again."""
    for identifier, snapshot_id in snapshots.items():
        if previous.get(identifier) == snapshot_id and previous_run is not None:
            continue
        try:
            if (table := load_table(identifier)) is not None:
                tag_published(table, snapshot_id, previous_run=previous_run, window=window)
        except Exception:
            logger.warning("could not tag %s's published snapshot", identifier, exc_info=True)
