"""The lake's money against the rules: fact_payment, late fees in fact_sales,
the overdue_rentals and receivables reports, and incremental runs as time
passes. Balances are compared with the desk's (rentals.selectors) and, on the
real Sakila data, with plain SQL written here from the rules."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from rest_framework.test import APIClient

from lake.catalog import load_table
from lake.models import PipelineRun
from lake.pipeline.runner import pipeline_run_create, pipeline_run_execute
from rentals import selectors
from rentals.generator import generate_sakila
from rentals.models import Customer, Payment, Rental, Store
from reports.registry import report_get, report_params_clean, report_run
from sakila_site.roles import CLERK
from tests.conftest import make_role_user
from tests.lake.conftest import lake_query, marts_contents

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("empty_cache")]

# After the last rental and payment of Sakila's period (2006-02-14): the open
# rentals of February accrue fees, some already at their cap.
AS_OF = datetime(2006, 3, 1, 0, 0)


def run_as_of(as_of: datetime, *, full: bool = False) -> PipelineRun:
    run = pipeline_run_execute(pipeline_run_create(full=full), as_of=as_of)
    assert run.status == PipelineRun.Status.SUCCEEDED, run.error
    return run


def report(name: str, **raw) -> list[dict]:
    found = report_get(name)
    return report_run(found, report_params_clean(found, {k: str(v) for k, v in raw.items()})).rows


def desk_balances(as_of: datetime) -> dict[int, Decimal]:
    return {
        customer.pk: selectors.customer_balance_get(customer=customer, as_of=as_of)
        for customer in Customer.objects.all()
    }


@pytest.fixture
def sales(built_lake):
    def build() -> int:
        generate_sakila(scale=0.05, seed=9)
        return run_as_of(AS_OF).pk

    return PipelineRun.objects.get(pk=built_lake(("sakila", 0.05, 9, AS_OF), build))


def test_fact_payment_holds_every_payment(sales):
    total = sum(Payment.objects.values_list("amount", flat=True), Decimal("0.00"))
    [row] = lake_query("select count(*) as n, sum(amount) as total from fact_payment")
    assert (row["n"], row["total"]) == (Payment.objects.count(), total)
    on_account = Payment.objects.filter(rental__isnull=True).count()
    assert on_account > 0
    assert lake_query("select count(*) as n from fact_payment where rental_id is null") == [
        {"n": on_account}
    ]


def test_receivables_are_the_desks_balances(sales):
    balances = desk_balances(AS_OF)
    by_customer = {
        row["customer_id"]: row["outstanding"] for row in report("receivables_by_customer")
    }
    assert by_customer == balances
    by_store = report("receivables")
    assert sum(row["outstanding"] for row in by_store) == sum(balances.values())
    for row in by_store:
        home = Customer.objects.filter(store_id=row["store_id"]).values_list("pk", flat=True)
        assert row["outstanding"] == sum(balances[pk] for pk in home)
        assert row["charged"] - row["received"] == row["outstanding"]
    assert [row["store_id"] for row in report("receivables", store=2)] == [2]


def test_overdue_rentals_are_the_desks_overdue(sales):
    expected = {
        rental.pk: (rental.days_late, rental.late_fee)
        for customer in Customer.objects.all()
        for rental in selectors.customer_overdue_rentals(customer=customer, as_of=AS_OF)
    }
    rows = report("overdue_rentals")
    assert {row["rental_id"]: (row["days_late"], row["late_fee"]) for row in rows} == expected
    assert rows and all(row["late_fee"] > 0 for row in rows)


@pytest.mark.slow
def test_an_incremental_run_a_day_later_equals_a_full_run(sales):
    accruing = lake_query(
        "select count(*) as n from fact_sales where not is_returned and days_late > 0 "
        "and late_fee < days_late + 1 and late_fee = days_late"
    )[0]["n"]
    assert accruing > 0
    fact_sales = load_table("marts.fact_sales")
    unchanged = fact_sales.current_snapshot().snapshot_id

    run_as_of(AS_OF)  # the same time again: nothing to rewrite
    assert load_table("marts.fact_sales").current_snapshot().snapshot_id == unchanged
    later = run_as_of(AS_OF + timedelta(days=1))  # no row changed, only the date
    step = later.steps.get(name="fact_sales")
    assert step.rows == accruing
    assert "accrued to 2006-03-02 00:00:00" in step.log
    incremental = marts_contents()

    run_as_of(AS_OF + timedelta(days=1), full=True)
    assert marts_contents() == incremental


def test_a_late_return_and_its_payment_reach_the_receivables(sales):
    rental = Rental.objects.filter(return_date__isnull=True).order_by("rental_date").first()
    before = {row["customer_id"]: row for row in report("receivables_by_customer")}
    owed = before[rental.customer_id]["outstanding"]
    rental.return_date = AS_OF  # returned at the as-of time: the same fee, now final
    rental.save()
    Payment.objects.create(
        customer=rental.customer, staff_id=1, rental=rental, amount=Decimal("2.50"),
        payment_date=AS_OF,
    )  # fmt: skip
    run_as_of(AS_OF)
    after = {row["customer_id"]: row for row in report("receivables_by_customer")}
    # The receivables move by exactly the payment.
    assert after[rental.customer_id]["outstanding"] == owed - Decimal("2.50")
    assert after[rental.customer_id]["outstanding"] == selectors.customer_balance_get(
        customer=rental.customer, as_of=AS_OF
    )
    assert rental.pk not in {row["rental_id"] for row in report("overdue_rentals")}


# --- The real Sakila data ----------------------------------------------------------------------

DAYS_SQL = {
    # Calendar days from the rental to its return, or to the as-of time while out.
    "sqlite": "cast(julianday(date(min(coalesce(r.return_date, %s), %s)))"
    " - julianday(date(r.rental_date)) as integer)",
    "mysql": "to_days(least(coalesce(r.return_date, %s), %s)) - to_days(r.rental_date)",
}
BALANCES_SQL = """
    select c.customer_id,
        coalesce((
            select sum(
                cast(round(f.rental_rate * 100) as {int})
                + {least}({greatest}({days} - {duration}, 0) * 100,
                          cast(round(f.replacement_cost * 100) as {int}))
            )
            from rental as r
            join inventory as i on i.inventory_id = r.inventory_id
            join film as f on f.film_id = i.film_id
            where r.customer_id = c.customer_id and r.rental_date <= %s
        ), 0)
        - coalesce((
            select sum(cast(round(p.amount * 100) as {int}))
            from payment as p
            where p.customer_id = c.customer_id and p.payment_date <= %s
        ), 0)
    from customer as c
"""


def balances_by_the_rules(as_of: datetime) -> dict[int, Decimal]:
    """Every customer's balance, in cents, straight from the tables: rates +
    $1 per calendar day late capped at the replacement cost - payments."""
    mysql = connection.vendor == "mysql"
    sql = BALANCES_SQL.format(
        int="signed" if mysql else "integer",
        least="least" if mysql else "min",
        greatest="greatest" if mysql else "max",
        days=DAYS_SQL[connection.vendor],
        # TINYINT UNSIGNED on MySQL: a subtraction below zero would be an error.
        duration="cast(f.rental_duration as signed)" if mysql else "f.rental_duration",
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [as_of, as_of, as_of, as_of])
        return {pk: Decimal(int(cents)) / 100 for pk, cents in cursor.fetchall()}


@pytest.mark.slow
def test_real_sakila_balances_agree_everywhere_to_the_cent(lake, real_sakila_dir):
    call_command("load_sakila", str(real_sakila_dir))
    rules = balances_by_the_rules(AS_OF)
    assert len(rules) == 599

    assert desk_balances(AS_OF) == rules

    run_as_of(AS_OF, full=True)
    lake_balances = {r["customer_id"]: r["outstanding"] for r in report("receivables_by_customer")}
    assert lake_balances == rules
    assert sum(r["outstanding"] for r in report("receivables")) == sum(rules.values())
    [row] = lake_query("select sum(amount) as total from fact_payment")
    assert row["total"] == Decimal("67416.51")  # SUM(payment.amount) of the shared data
    by_store = {r["store"]: r["total_sales"] for r in report("sales_by_store")}
    assert by_store == {
        "Lethbridge, Canada": Decimal("33689.74"),
        "Woodridge, Australia": Decimal("33726.77"),
    }

    # The API's balance, with the clock at the same time.
    api = APIClient()
    api.force_authenticate(make_role_user(CLERK, store=Store.objects.get(pk=1)))
    from rentals import pricing

    original = pricing.now
    pricing.now = lambda: AS_OF
    try:
        api_balances = {
            pk: Decimal(api.get(f"/api/customers/{pk}/").json()["balance"]) for pk in rules
        }
    finally:
        pricing.now = original
    assert api_balances == rules
