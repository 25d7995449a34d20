"""Every report against the same figures computed on the rental database.

The reference figures come from SQL written here against the OLTP tables (and
Python's calendar and ``holidays`` for the day-based reports), never from the
report's own SQL.
"""

from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

import holidays
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from lake.models import PipelineRun
from lake.query import QueryError
from lake.query.duckdb import ERROR_NO_DATA
from rentals.models import Payment, Rental
from reports import registry as reports
from reports.registry import REPORTS, report_get, report_params_clean, report_run
from tests.lake.conftest import money, run_pipeline

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("empty_cache")]

ZERO = Decimal("0.00")
MONEY_REPORTS = {"overdue_rentals", "receivables", "receivables_by_customer"}
# Payments are filtered by the payment's date and store: checked on their own.
DETAIL_REPORTS = {"payments"}

# Sakila's views, on the OLTP tables.
SAKILA_SALES_BY_STORE = """
    select i.store_id, sum(p.amount)
    from payment as p
    join rental as r on p.rental_id = r.rental_id
    join inventory as i on r.inventory_id = i.inventory_id
    join store as s on i.store_id = s.store_id
    join address as a on s.address_id = a.address_id
    join city as c on a.city_id = c.city_id
    join country as cy on c.country_id = cy.country_id
    join staff as m on s.manager_staff_id = m.staff_id
    {where}
    group by i.store_id
"""
SAKILA_SALES_BY_FILM_CATEGORY = """
    select c.name, sum(p.amount)
    from payment as p
    join rental as r on p.rental_id = r.rental_id
    join inventory as i on r.inventory_id = i.inventory_id
    join film as f on i.film_id = f.film_id
    join film_category as fc on f.film_id = fc.film_id
    join category as c on fc.category_id = c.category_id
    {where}
    group by c.name
"""
# One row per rental: what the other reports group.
RENTALS = """
    select r.rental_id, r.rental_date, r.return_date, r.customer_id, i.store_id, i.film_id,
        f.rental_duration, cat.name,
        (select sum(p.amount) from payment as p where p.rental_id = r.rental_id)
    from rental as r
    join inventory as i on r.inventory_id = i.inventory_id
    join film as f on i.film_id = f.film_id
    left join film_category as fc on f.film_id = fc.film_id
    left join category as cat on fc.category_id = cat.category_id
"""


@pytest.fixture
def sales(sakila_lake):
    return sakila_lake(scale=0.02, seed=11)


def as_datetime(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def period_where(params: dict) -> tuple[str, list]:
    """A WHERE clause on r (rental) and i (inventory) for start, end and store."""
    clauses, args = [], []
    if params.get("start"):
        clauses.append("r.rental_date >= %s")
        args.append(f"{params['start']} 00:00:00")
    if params.get("end"):
        clauses.append("r.rental_date < %s")
        args.append(f"{date.fromordinal(params['end'].toordinal() + 1)} 00:00:00")
    if params.get("store"):
        clauses.append("i.store_id = %s")
        args.append(params["store"])
    return ("where " + " and ".join(clauses)) if clauses else "", args


def oltp(sql: str, args: list) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        return cursor.fetchall()


def rentals(params: dict) -> list[dict]:
    where, args = period_where(params)
    rows = []
    for rental_id, rented, returned, customer, store, film, duration, category, paid in oltp(
        f"{RENTALS} {where}", args
    ):
        rented, returned = as_datetime(rented), as_datetime(returned)
        rows.append({
            "rental_id": rental_id, "rented": rented, "returned": returned,
            "customer": customer, "store": store, "film": film, "category": category,
            "late": returned is not None and (returned.date() - rented.date()).days > duration,
            "amount": money(paid or 0),
        })  # fmt: skip
    return rows


def totals(rows: list[dict], key) -> dict:
    """{key: (rentals, revenue)}"""
    found = defaultdict(lambda: [0, ZERO])
    for row in rows:
        found[key(row)][0] += 1
        found[key(row)][1] += row["amount"]
    return {k: (n, money(revenue)) for k, (n, revenue) in found.items()}


def top(rows: list[dict], key: str, n: int) -> list[tuple]:
    ranked = sorted(
        totals(rows, lambda row: row[key]).items(), key=lambda t: (-t[1][1], -t[1][0], t[0])
    )
    return [(k, rentals_, revenue) for k, (rentals_, revenue) in ranked[:n]]


def expected(name: str, params: dict):
    """The report's figures, from the rental database."""
    where, args = period_where(params)
    if name == "sales_by_store":
        return {
            store: money(t) for store, t in oltp(SAKILA_SALES_BY_STORE.format(where=where), args)
        }
    if name == "sales_by_film_category":
        rows = oltp(SAKILA_SALES_BY_FILM_CATEGORY.format(where=where), args)
        return {category: money(t) for category, t in rows}
    rows = rentals(params)
    if name == "sales_by_month":
        return totals(rows, lambda row: row["rented"].strftime("%Y-%m"))
    if name == "sales_by_day":
        return totals(rows, lambda row: row["rented"].date())
    if name == "rentals":
        return {row["rental_id"]: row["amount"] for row in rows}
    if name == "top_films":
        return top(rows, "film", params.get("top") or 10)
    if name == "top_customers":
        return top(rows, "customer", params.get("top") or 10)
    if name == "weekday_vs_weekend":
        return totals(rows, lambda row: row["rented"].isoweekday() >= 6)
    if name == "rentals_by_weekday":
        return totals(rows, lambda row: (row["rented"].isoweekday(), row["rented"].strftime("%A")))
    if name == "holiday_sales":
        us = holidays.country_holidays("US", years=range(2000, 2031))
        return totals(rows, lambda row: us.get(row["rented"].date()) or "Not a holiday")
    if name == "late_returns_by_category":
        found = defaultdict(lambda: [0, 0])
        for row in rows:
            if row["returned"] is not None:
                found[row["category"]][0] += 1
                found[row["category"]][1] += row["late"]
        return {c: (returned, late) for c, (returned, late) in found.items()}
    raise AssertionError(name)


def actual(name: str, rows: list[dict]):
    """The report's rows in the shape of ``expected``."""
    if name == "sales_by_store":
        return {row["store_id"]: row["total_sales"] for row in rows}
    if name == "sales_by_film_category":
        return {row["category"]: row["total_sales"] for row in rows}
    if name == "sales_by_month":
        return {row["month"]: (row["rentals"], row["revenue"]) for row in rows}
    if name == "sales_by_day":
        return {row["day"]: (row["rentals"], row["revenue"]) for row in rows}
    if name == "rentals":
        return {row["rental_id"]: row["amount"] for row in rows}
    if name == "top_films":
        return [(row["film_id"], row["rentals"], row["revenue"]) for row in rows]
    if name == "top_customers":
        return [(row["customer_id"], row["rentals"], row["revenue"]) for row in rows]
    if name == "weekday_vs_weekend":
        return {row["is_weekend"]: (row["rentals"], row["revenue"]) for row in rows}
    if name == "rentals_by_weekday":
        return {
            (row["day_of_week"], row["day_name"]): (row["rentals"], row["revenue"]) for row in rows
        }
    if name == "holiday_sales":
        return {row["holiday"]: (row["rentals"], row["revenue"]) for row in rows}
    if name == "late_returns_by_category":
        for row in rows:
            assert row["late_share"] == pytest.approx(row["late"] / row["returned"], abs=1e-4)
        return {row["category"]: (row["returned"], row["late"]) for row in rows}
    raise AssertionError(name)


def run(name: str, **raw) -> reports.ReportResult:
    report = report_get(name)
    return report_run(report, report_params_clean(report, {k: str(v) for k, v in raw.items()}))


def test_every_report_has_its_sql_file_and_a_chart_of_its_columns(sales):
    for report in REPORTS.values():
        result = run(report.name)
        assert result.rows, report.name
        if report.chart is not None:  # the detail lists have none
            assert {report.chart.x, *report.chart.y} <= set(result.columns), report.name
            assert report.chart.kind in {"bar", "time"}
        for drill in report.drills:  # drill-through: from a column to a report or page
            assert {drill.column, drill.key or drill.column} <= set(result.columns), report.name
            assert drill.to == "customer" or drill.to in REPORTS
        assert report.description


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"start": "2005-06-01", "end": "2005-07-31"},
        {"store": "2", "top": "5"},
        {"start": "2005-07-01", "end": "2005-08-31", "store": "1", "top": "3"},
    ],
    ids=["all", "period", "store", "period-store"],
)
def test_every_report_matches_the_rental_database(sales, raw):
    for name, report in REPORTS.items():
        if name in MONEY_REPORTS | DETAIL_REPORTS:  # checked elsewhere (test_money.py, below)
            continue
        params = report_params_clean(report, raw)
        result = report_run(report, params)
        assert actual(name, result.rows) == expected(name, params), name


def test_sales_add_up_to_the_payments_of_rentals(sales):
    paid = sum(Payment.objects.filter(rental__isnull=False).values_list("amount", flat=True), ZERO)
    assert sum(row["total_sales"] for row in run("sales_by_store").rows) == paid
    assert sum(row["revenue"] for row in run("sales_by_month").rows) == paid
    assert sum(row["rentals"] for row in run("rentals_by_weekday").rows) == Rental.objects.count()
    assert isinstance(run("top_films").rows[0]["revenue"], Decimal)  # money stays exact
    assert len(run("top_customers", top=3).rows) == 3
    assert len(run("top_films").rows) == 10  # the default


def test_payments_list_every_payment_and_filter_by_customer(sales):
    assert sum(row["amount"] for row in run("payments", rows=5000).rows) == sum(
        Payment.objects.values_list("amount", flat=True), ZERO
    )
    customer = Payment.objects.order_by("pk").first().customer_id
    mine = run("payments", customer=customer).rows
    assert {row["customer_id"] for row in mine} == {customer}
    assert len(mine) == Payment.objects.filter(customer_id=customer).count()
    assert [row["payment_date"] for row in mine] == sorted(
        (row["payment_date"] for row in mine), reverse=True
    )


def test_top_films_of_a_category(sales):
    everything = run("top_films", top=100).rows
    category = everything[0]["category"]
    # The category's films among the top 100 are its top films, in the same order.
    ours = [row["film_id"] for row in everything if row["category"] == category]
    filtered = run("top_films", top=len(ours), category=category).rows
    assert [row["film_id"] for row in filtered] == ours
    assert [row["position"] for row in filtered] == list(range(1, len(ours) + 1))


def test_a_period_without_rentals_has_no_rows(sales):
    assert run("sales_by_store", start="1990-01-01", end="1990-12-31").rows == []


@pytest.mark.slow
def test_real_sakila_views(lake, real_sakila_dir):
    from django.core.management import call_command

    call_command("load_sakila", str(real_sakila_dir))
    run_pipeline()
    by_store = {row["store"]: row["total_sales"] for row in run("sales_by_store").rows}
    # The figures of Sakila's sales_by_store view on this copy, where every
    # payment has its rental: together, all 67,416.51 of payments.
    assert by_store == {
        "Lethbridge, Canada": Decimal("33689.74"),
        "Woodridge, Australia": Decimal("33726.77"),
    }
    by_category = {
        row["category"]: row["total_sales"] for row in run("sales_by_film_category").rows
    }
    assert by_category["Sports"] == Decimal("5314.21")
    assert by_category["Music"] == Decimal("3417.72")
    assert next(iter(by_category)) == "Sports"  # the view's order: best first
    for name in ("sales_by_store", "sales_by_film_category"):
        assert actual(name, run(name).rows) == expected(name, {}), name


# --- Parameters ------------------------------------------------------------------------------


def errors_of(report_name: str, raw: dict) -> dict:
    with pytest.raises(ValidationError) as caught:
        report_params_clean(report_get(report_name), raw)
    return caught.value.message_dict


def test_params_are_typed_and_default(sales):
    report = report_get("top_films")
    assert report_params_clean(report, {"start": "2005-06-01", "store": "1", "top": " 7 "}) == {
        "start": date(2005, 6, 1), "end": None, "store": 1, "top": 7, "category": None,
    }  # fmt: skip
    assert report_params_clean(report, {"other": "x"})["top"] == 10


def test_bad_params_are_errors_naming_the_field(sales):
    assert errors_of("sales_by_store", {"start": "2005-13-01"}) == {
        "start": [reports.ERROR_BAD_DATE.format(value="2005-13-01")]
    }
    assert errors_of("sales_by_store", {"start": "2005-06-02", "end": "2005-06-01"}) == {
        "end": [reports.ERROR_END_BEFORE_START.format(start="2005-06-02", end="2005-06-01")]
    }
    assert errors_of("sales_by_store", {"store": "9"}) == {"store": ["There is no store 9."]}
    assert errors_of("sales_by_store", {"store": "main"}) == {
        "store": [reports.ERROR_BAD_STORE.format(value="main")]
    }
    assert errors_of("top_films", {"top": "abc"}) == {"top": ["Enter a whole number, not 'abc'."]}
    assert errors_of("top_films", {"top": "0", "end": "x"}) == {
        "top": ["Enter a number from 1 to 100."],
        "end": [reports.ERROR_BAD_DATE.format(value="x")],
    }
    assert "top" not in report_params_clean(report_get("sales_by_store"), {"top": "abc"})


def test_unknown_report():
    with pytest.raises(reports.ReportNotFound, match="There is no report called 'nope'."):
        report_get("nope")


def test_no_data_yet_is_a_clear_error(lake):
    with pytest.raises(QueryError, match=ERROR_NO_DATA.replace("(", r"\(").replace(")", r"\)")):
        report_run(report_get("sales_by_store"), {})
    # Without a lake, a store cannot be checked: running the report says why.
    assert report_params_clean(report_get("sales_by_store"), {"store": "3"})["store"] == 3


# --- Cache and time travel -------------------------------------------------------------------


def add_rental(amount: Decimal) -> None:
    from rentals.models import Customer, Inventory

    now = timezone.now().replace(microsecond=0)
    customer = Customer.objects.order_by("pk").first()
    copy = Inventory.objects.exclude(rentals__return_date__isnull=True).order_by("pk").first()
    rental = Rental.objects.create(
        rental_date=now, inventory=copy, customer=customer, staff_id=copy.store_id
    )
    Payment.objects.create(
        customer=customer, staff_id=copy.store_id, rental=rental, amount=amount, payment_date=now
    )


def test_results_are_cached_per_snapshot(sales):
    report = report_get("sales_by_store")
    first = report_run(report, {})
    assert not first.from_cache
    assert first.run_id == sales.pk
    assert first.as_of == sales.finished_at
    second = report_run(report, {})
    assert second.from_cache
    assert second.rows == first.rows
    assert second.cached_at == first.cached_at
    assert not report_run(report, {"store": 1}).from_cache  # other parameters, other entry

    refreshed = report_run(report, {}, refresh=True)
    assert not refreshed.from_cache
    assert refreshed.cached_at >= first.cached_at
    assert report_run(report, {}).cached_at == refreshed.cached_at

    add_rental(Decimal("5.00"))
    later = run_pipeline()
    after = report_run(report, {})
    assert not after.from_cache  # a new run: new snapshots, a new key
    assert after.run_id == later.pk
    assert sum(r["total_sales"] for r in after.rows) == sum(
        r["total_sales"] for r in first.rows
    ) + Decimal("5.00")


def test_time_travel_reads_an_earlier_run(sales):
    report = report_get("sales_by_month")
    before = report_run(report, {})
    add_rental(Decimal("7.25"))
    later = run_pipeline()

    now = report_run(report, {})
    assert now.run_id == later.pk
    assert sum(r["rentals"] for r in now.rows) == sum(r["rentals"] for r in before.rows) + 1

    earlier = report_run(report, {}, as_of_run=sales)
    assert earlier.run_id == sales.pk
    assert earlier.as_of == sales.finished_at
    assert earlier.rows == before.rows
    assert earlier.from_cache  # the same snapshots as the first call


def test_a_run_that_published_nothing_cannot_be_read(sales):
    failed = PipelineRun.objects.create(status=PipelineRun.Status.FAILED)
    with pytest.raises(QueryError, match=f"Run {failed.pk} cannot be read"):
        report_run(report_get("sales_by_store"), {}, as_of_run=failed)
    with pytest.raises(ValidationError) as caught:
        reports.report_run_get(failed.pk)
    assert list(caught.value.message_dict) == ["as_of_run"]
    with pytest.raises(ValidationError, match="There is no pipeline run 999999."):
        reports.report_run_get(999999)
    assert reports.report_run_get(str(sales.pk)) == sales


# --- The engine under the reports -------------------------------------------------------------


def test_the_engine_reads_the_marts_and_no_other_file(sales, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from lake.query import get_query_engine

    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"secret": [1]}), other)
    engine = get_query_engine()
    assert engine.execute("select count(*) as n from fact_sales").to_pylist() == [
        {"n": Rental.objects.count()}
    ]
    for sql in (
        f"select * from read_parquet('{other}')",
        "select * from read_csv('/etc/passwd')",
        "select * from fact_sales, read_text('/etc/hostname')",
    ):
        with pytest.raises(QueryError):
            engine.execute(sql)
    with pytest.raises(QueryError):  # the settings are locked
        engine.execute("select * from fact_sales where 1 = 0; set enable_external_access = true")
