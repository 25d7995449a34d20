"""The Glue Data Catalog (``LAKE_CATALOG=glue``), through pyiceberg's GlueCatalog.

A lake namespace ("staging", "marts", "raw") is the Glue database
"<GLUE_DATABASE>_<namespace>".
"""

from functools import lru_cache

from django.conf import settings
from pyiceberg.catalog import Catalog

from lake.core.tables import ensure_namespaces


def namespace(zone: str) -> str:
    """The Glue database of a lake namespace."""
    return f"{settings.GLUE_DATABASE}_{zone}"


def catalog(warehouse: str, namespaces: tuple[str, ...]) -> Catalog:
    """The catalog (one per region, endpoint and warehouse), ``namespaces``
    (Glue databases) created if missing."""
    return _glue_catalog(settings.AWS_REGION, settings.AWS_ENDPOINT_URL, warehouse, namespaces)


def tables_by_identifier(catalog: Catalog) -> None:
    """None: Glue has no one-call listing with metadata; tables load one by one."""
    return None


def cache_clear() -> None:
    _glue_catalog.cache_clear()


@lru_cache(maxsize=4)
def _glue_catalog(
    region: str, endpoint_url: str, warehouse: str, namespaces: tuple[str, ...]
) -> Catalog:
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
    return ensure_namespaces(GlueCatalog("sakila", **properties), namespaces)
