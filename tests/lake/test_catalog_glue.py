"""The lake's tables in the Glue Data Catalog (``LAKE_CATALOG=glue``): pyiceberg's
GlueCatalog on moto's Glue and S3, as production runs it on AWS."""

from datetime import datetime
from decimal import Decimal

import boto3
import pyarrow as pa
import pytest
from pyiceberg.expressions import In

from lake.catalog import (
    catalog_cache_clear,
    catalog_identifier,
    current_snapshot_ids,
    ensure_table,
    lake_tables,
    load_table,
)
from lake.core.table_writes import replace_rows
from lake.core.tables import snapshot_dataset

BUCKET = "sakila-lake-test"
SCHEMA = pa.schema(
    [
        pa.field("rental_id", pa.int64(), nullable=False),
        pa.field("rental_date", pa.timestamp("us")),
        pa.field("amount", pa.decimal128(7, 2)),
    ]
)


def rows(*values: tuple) -> pa.Table:
    return pa.Table.from_pylist(
        [dict(zip(SCHEMA.names, value, strict=True)) for value in values], schema=SCHEMA
    )


@pytest.fixture
def glue_catalog(aws, settings, monkeypatch):
    """LAKE_CATALOG=glue with the warehouse in a bucket on moto.

    Only the settings point at moto (not the environment), so the catalog
    reaches it through its own ``glue.endpoint`` and ``s3.endpoint``.
    """
    glue = boto3.client("glue", region_name="us-east-1", endpoint_url=aws)
    boto3.client("s3", region_name="us-east-1", endpoint_url=aws).create_bucket(Bucket=BUCKET)
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    catalog_cache_clear()  # moto was reset: the cached catalog's databases are gone
    settings.LAKE_CATALOG = "glue"
    settings.LAKE_WAREHOUSE = f"s3://{BUCKET}/lake"
    settings.GLUE_DATABASE = "sakila_test"
    return glue


def test_a_table_is_written_and_read_back_through_the_glue_catalog(glue_catalog):
    table = ensure_table("marts.fact_sales", SCHEMA, month_partition="rental_date")
    replace_rows(
        table, rows((1, datetime(2005, 5, 24, 22, 53), Decimal("2.99"))), In("rental_id", [1])
    )
    table = load_table("marts.fact_sales")
    replace_rows(
        table,
        rows(
            (1, datetime(2005, 5, 24, 22, 53), Decimal("3.99")),
            (2, datetime(2005, 6, 1, 10, 0), Decimal("0.99")),
        ),
        In("rental_id", [1, 2]),
    )

    table = load_table("marts.fact_sales")
    read = table.scan().to_arrow().sort_by("rental_id")
    assert read.column("rental_id").to_pylist() == [1, 2]
    assert [str(amount) for amount in read.column("amount").to_pylist()] == ["3.99", "0.99"]
    assert table.metadata.location.startswith(f"s3://{BUCKET}/lake/")
    assert [spec.name for spec in table.spec().fields] == ["rental_date_month"]

    assert lake_tables() == ["marts.fact_sales"]
    snapshot_id = table.current_snapshot().snapshot_id
    assert current_snapshot_ids() == {"marts.fact_sales": snapshot_id}
    # What DuckDB reports scan: the files on S3, read through the catalog's endpoint.
    dataset = snapshot_dataset(table, snapshot_id)
    assert sorted(dataset.to_table().column("rental_id").to_pylist()) == [1, 2]

    glue_tables = glue_catalog.get_tables(DatabaseName="sakila_test_marts")["TableList"]
    assert [(t["Name"], t["Parameters"]["table_type"]) for t in glue_tables] == [
        ("fact_sales", "ICEBERG")
    ]
    databases = {d["Name"] for d in glue_catalog.get_databases()["DatabaseList"]}
    assert {"sakila_test_staging", "sakila_test_marts"} <= databases


def test_an_empty_catalog_has_no_tables_and_no_snapshots(glue_catalog):
    assert lake_tables() == []
    assert current_snapshot_ids() == {}
    assert load_table("staging.rental") is None


def test_lake_identifiers_map_to_glue_databases(settings):
    settings.LAKE_CATALOG = "glue"
    settings.GLUE_DATABASE = "shop"
    assert catalog_identifier("staging.rental") == ("shop_staging", "rental")
    settings.LAKE_CATALOG = "sql"
    assert catalog_identifier("staging.rental") == ("staging", "rental")
    with pytest.raises(ValueError, match="not a lake table: 'rental'"):
        catalog_identifier("rental")
