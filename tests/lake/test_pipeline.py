"""The star schema after a run reconciles with the rental database."""

from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lake.catalog import ensure_table, load_table
from lake.models import PipelineRun, PipelineStep, Watermark
from lake.pipeline.schemas import STAGED_MODELS, staging_schema
from rentals.generator import generate_sakila
from rentals.loader import load_sakila
from rentals.models import Film, Payment, Rental, Staff
from tests.lake.conftest import lake_query, money, oltp_query, run_pipeline
from tests.reports.test_registry import SAKILA_SALES_BY_FILM_CATEGORY, SAKILA_SALES_BY_STORE

pytestmark = pytest.mark.django_db(transaction=True)


def assert_star_schema_reconciles() -> None:
    rentals = Rental.objects.count()
    facts = lake_query(
        "select count(*) as n, count(distinct rental_id) as ids, sum(amount) as total "
        "from fact_sales"
    )[0]
    assert facts["n"] == facts["ids"] == rentals
    paid = sum(
        Payment.objects.filter(rental__isnull=False).values_list("amount", flat=True), Decimal(0)
    )
    assert facts["total"] == paid  # Decimal end to end: exact to the cent

    by_store = {
        row["store_id"]: row["total"]
        for row in lake_query(
            "select store_id, sum(amount) as total from fact_sales group by store_id"
        )
    }
    assert by_store == {
        store: money(total) for store, total in oltp_query(SAKILA_SALES_BY_STORE.format(where=""))
    }
    by_category = {
        row["category"]: row["total"]
        for row in lake_query(
            "select f.category, sum(s.amount) as total "
            "from fact_sales as s join dim_film as f on s.film_id = f.film_id "
            "group by f.category"
        )
    }
    assert by_category == {
        name: money(total)
        for name, total in oltp_query(SAKILA_SALES_BY_FILM_CATEGORY.format(where=""))
    }
    dims = lake_query(
        "select (select count(*) from dim_film) as films, "
        "(select count(*) from dim_customer) as customers, "
        "(select count(*) from dim_store) as stores, (select count(*) from dim_staff) as staff, "
        "(select count(*) from dim_actor) as actors, "
        "(select count(*) from bridge_film_actor) as links, "
        "(select count(*) from fact_sales where date_sales_id not in "
        "  (select date_id from dim_date)) as facts_without_date"
    )[0]
    assert dims == {
        "films": Film.objects.count(),
        "customers": oltp_query("select count(*) from customer")[0][0],
        "stores": 2,
        "staff": 2,
        "actors": 200,
        "links": oltp_query("select count(*) from film_actor")[0][0],
        "facts_without_date": 0,
    }


def test_a_run_builds_a_star_schema_that_reconciles(sakila_lake):
    run = sakila_lake(scale=0.05, seed=9)  # generate_sakila, then the first run

    assert_star_schema_reconciles()
    assert run.full  # the first run builds everything
    steps = {step.name: step for step in run.steps.all()}
    assert len(steps) == 2 * len(STAGED_MODELS) + 12  # extract, dim_date, 8 marts, checks, crawl
    assert all(step.status == PipelineStep.Status.SUCCEEDED for step in steps.values())
    assert steps["extract rental"].rows == Rental.objects.count()
    assert steps["fact_sales"].rows == Rental.objects.count()
    assert set(run.snapshots) >= {"marts.fact_sales", "marts.dim_date", "staging.rental"}
    assert Watermark.objects.count() == len(STAGED_MODELS)
    assert run.watermarks_to["rental"]


@pytest.mark.slow
def test_staff_passwords_and_pictures_never_enter_the_lake(lake):
    generate_sakila(scale=0.05, seed=3)
    secret = "8cb2237d0679ca88db6464eac60da96345513964"
    Staff.objects.update(password=secret, picture=b"\x89PNG-portrait")

    run_pipeline(full=True)

    staff = load_table("staging.staff")
    assert not {"password", "picture"} & set(staff.schema().column_names)
    assert staff.scan().to_arrow().num_rows == Staff.objects.count()
    raw_files = list((lake / "raw" / "staff").rglob("*.parquet"))
    assert raw_files
    for path in raw_files:
        assert not {"password", "picture"} & set(pq.read_schema(path).names)
    for path in lake.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path


@pytest.mark.slow
def test_a_lake_made_with_staff_passwords_loses_the_columns_at_the_next_run(lake):
    generate_sakila(scale=0.05, seed=3)
    old_schema = staging_schema(Staff).append(pa.field("password", pa.string()))
    ensure_table("staging.staff", old_schema)

    run_pipeline()

    assert "password" not in load_table("staging.staff").schema().column_names
    assert lake_query("select count(*) as n from dim_staff") == [{"n": Staff.objects.count()}]


@pytest.mark.slow
def test_fact_sales_describes_each_rental(sakila_lake):
    sakila_lake(scale=0.05, seed=9)
    rental = Rental.objects.filter(return_date__isnull=False, payments__isnull=False).first()
    row = lake_query(f"select * from fact_sales where rental_id = {rental.pk}")[0]
    paid = sum(rental.payments.values_list("amount", flat=True), Decimal(0))
    days = (rental.return_date.date() - rental.rental_date.date()).days
    film = rental.inventory.film
    assert row == {
        **row,
        "date_sales_id": int(rental.rental_date.strftime("%Y%m%d")),
        "customer_id": rental.customer_id,
        "film_id": film.pk,
        "store_id": rental.inventory.store_id,
        "staff_id": rental.staff_id,
        "inventory_id": rental.inventory_id,
        "rental_date": rental.rental_date,
        "return_date": rental.return_date,
        "rental_days": days,
        "is_returned": True,
        "is_late": days > film.rental_duration,
        "amount": paid,
        "payment_count": rental.payments.count(),
        "days_late": max(days - film.rental_duration, 0),
        "late_fee": min(max(days - film.rental_duration, 0), film.replacement_cost),
        "charged": film.rental_rate
        + min(max(days - film.rental_duration, 0), film.replacement_cost),
    }
    unpaid = Rental.objects.order_by("pk").first()
    unpaid.payments.all().delete()
    run_pipeline(full=True)  # deletions reach the lake in full runs
    row = lake_query(f"select amount, payment_count from fact_sales where rental_id = {unpaid.pk}")
    assert row == [{"amount": Decimal("0.00"), "payment_count": 0}]


@pytest.mark.slow
def test_real_sakila_data_reconciles(lake, real_sakila_dir):
    load_sakila(real_sakila_dir)
    run_pipeline()
    assert_star_schema_reconciles()
    assert lake_query("select sum(amount) as total from fact_sales")[0]["total"] == Decimal(
        "67416.51"
    ) - sum(Payment.objects.filter(rental__isnull=True).values_list("amount", flat=True))


def test_failed_run_shows_its_error_and_step(lake, settings):
    generate_sakila(scale=0.02, seed=1)
    settings.LAKE_FAULT_INJECTION = "dim_film:raise"
    from lake.pipeline.runner import pipeline_run_create, pipeline_run_execute

    run = pipeline_run_execute(pipeline_run_create())
    assert run.status == PipelineRun.Status.FAILED
    assert run.error == "InjectedFault: fault injected at dim_film"
    failed = run.steps.get(status=PipelineStep.Status.FAILED)
    assert failed.name == "dim_film"
    assert "InjectedFault" in failed.error
