import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lake.models import CrawledTable
from lake.pipeline.crawl import crawl_raw_zone
from lake.pipeline.schemas import STAGED_MODELS

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_run_catalogs_every_raw_table(sakila_lake):
    run = sakila_lake(scale=0.02, seed=11)
    crawled = {table.name: table for table in CrawledTable.objects.all()}
    assert len(crawled) == len(STAGED_MODELS)
    rental = crawled["rental"]
    assert rental.partitions == [f"run_id={run.pk}"]
    assert [c["name"] for c in rental.columns] == [
        "rental_id", "rental_date", "inventory_id", "customer_id", "return_date", "staff_id",
        "last_update",
    ]  # fmt: skip
    assert {c["name"]: c["type"] for c in crawled["payment"].columns}[
        "amount"
    ] == "decimal128(5, 2)"
    assert rental.schema_version == 1 and rental.location.endswith("/raw/rental")


def test_new_columns_make_a_new_schema_version(lake, sakila_lake):
    sakila_lake(scale=0.02, seed=11)
    partition = lake / "raw" / "customer" / "run_id=999"
    partition.mkdir(parents=True)
    pq.write_table(
        pa.table({"customer_id": [1], "loyalty_tier": ["gold"]}), partition / "part-00000.parquet"
    )

    result = crawl_raw_zone()

    customer = CrawledTable.objects.get(name="customer")
    assert result.new_partitions == 1 and result.new_columns == 1
    assert customer.schema_version == 2
    assert customer.columns[-1] == {"name": "loyalty_tier", "type": "string"}
    assert customer.schema_changes[0]["added"] == [{"name": "loyalty_tier", "type": "string"}]
    assert customer.partitions[-1] == "run_id=999"
    assert crawl_raw_zone().new_partitions == 0  # nothing new the second time
