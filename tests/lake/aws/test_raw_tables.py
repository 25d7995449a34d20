"""The raw zone as the Glue crawler catalogs it (``LAKE_ENGINE=glue``): the
control panel's catalog, its table page and ``lake tables``, on moto's Glue."""

import re
from datetime import datetime

import pytest
from botocore.stub import Stubber
from django.core.management import CommandError, call_command
from django.urls import reverse

from lake.aws.clients import aws_client
from lake.aws.raw_tables import glue_raw_tables
from lake.catalog import CatalogUnavailable
from lake.panel import catalog
from tests.lake.aws.conftest import RAW_DATABASE, WAREHOUSE_BUCKET, crawl

pytestmark = pytest.mark.django_db

DATABASE = RAW_DATABASE
RENTAL_COLUMNS = [
    ("rental_id", "int"),
    ("rental_date", "timestamp"),
    ("inventory_id", "int"),
    ("last_update", "timestamp"),
]


def test_nothing_is_crawled_before_the_first_glue_run(on_glue):
    assert glue_raw_tables() == []
    assert glue_raw_tables(name="rental") == []
    assert catalog.catalog_table_get(zone="raw", name="rental") is None


def test_the_crawlers_tables_with_partitions_in_run_order(on_glue):
    crawl(on_glue, "rental", RENTAL_COLUMNS, runs=[2, 10, 9])
    crawl(on_glue, "actor", [("actor_id", "int")], runs=[2])

    tables = glue_raw_tables()

    assert [table.name for table in tables] == ["actor", "rental"]
    rental = tables[1]
    assert rental.columns == [{"name": name, "type": kind} for name, kind in RENTAL_COLUMNS]
    assert rental.partitions == ["run_id=2", "run_id=9", "run_id=10"]
    assert rental.location == f"s3://{WAREHOUSE_BUCKET}/lake/raw/rental/"
    assert (rental.schema_version, rental.schema_changes) == (1, [])
    assert isinstance(rental.last_crawled_at, datetime) and rental.last_crawled_at.tzinfo is None
    assert [table.name for table in glue_raw_tables(name="actor")] == ["actor"]


def test_a_new_column_makes_a_schema_version_and_new_partitions_do_not(on_glue):
    crawl(on_glue, "rental", RENTAL_COLUMNS, runs=[1])
    crawl(on_glue, "rental", RENTAL_COLUMNS, runs=[2])  # a crawl that found a partition
    crawl(on_glue, "rental", [*RENTAL_COLUMNS, ("loyalty_tier", "string")], runs=[3])

    table = catalog.catalog_table_get(zone="raw", name="rental")

    assert table.schema_version == 2
    assert [change["added"] for change in table.schema_changes] == [
        [{"name": "loyalty_tier", "type": "string"}]
    ]
    assert table.schema_changes[0]["version"] == 2
    assert table.partitions == ["run_id=1", "run_id=2", "run_id=3"]


def test_the_panel_shows_the_raw_zone_from_glue(on_glue, client, manager):
    crawl(on_glue, "rental", RENTAL_COLUMNS, runs=[1])
    crawl(on_glue, "rental", [*RENTAL_COLUMNS, ("loyalty_tier", "string")], runs=[2])
    client.force_login(manager)

    catalog = client.get(reverse("lake:catalog")).content.decode()
    assert ">raw.rental</a>" in catalog and "Nothing crawled yet" not in catalog

    html = client.get(reverse("lake:catalog-table", args=["raw", "rental"])).content.decode()
    assert re.search(
        r"<code>loyalty_tier</code> string</td><td>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d<", html
    )
    assert "<dd>v2</dd>" in html and "<code>run_id=2</code>" in html
    assert client.get(reverse("lake:catalog-table", args=["raw", "payment"])).status_code == 404


def test_lake_tables_lists_the_glue_raw_zone(on_glue, capsys):
    crawl(on_glue, "rental", RENTAL_COLUMNS, runs=[1, 2])
    call_command("lake", "tables")
    out = capsys.readouterr().out
    assert "raw.rental  2 partitions  schema v1  s3://" in out
    assert "    inventory_id          int" in out


def test_an_unreadable_glue_catalog_is_named_not_a_500(on_glue, client, manager):
    client.force_login(manager)
    denied = {"service_error_code": "AccessDeniedException", "service_message": "no glue:GetTable"}
    with Stubber(aws_client("glue")) as glue:
        glue.add_client_error("get_tables", **denied)
        with pytest.raises(CatalogUnavailable) as refused:
            glue_raw_tables()
        glue.add_client_error("get_table", **denied)
        response = client.get(reverse("lake:catalog-table", args=["raw", "rental"]))
        glue.add_client_error("get_tables", **denied)
        with pytest.raises(CommandError) as failed:
            call_command("lake", "tables")

    expected = (
        "Could not read the Glue database sakila_raw: AccessDeniedException: no glue:GetTable"
    )
    assert str(refused.value) == str(failed.value) == expected
    assert response.status_code == 503 and expected in response.content.decode()
