"""Incremental runs: only what changed is rebuilt, and the result equals a full rebuild."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from lake.catalog import load_table
from lake.models import PipelineRun
from rentals.models import (
    Address,
    Category,
    Customer,
    Film,
    FilmCategory,
    Inventory,
    Payment,
    Rental,
)
from tests.lake.conftest import lake_query, marts_contents, run_pipeline

pytestmark = pytest.mark.django_db(transaction=True)


def make_desk_changes() -> dict:
    """New rentals with payments, returns, a payment, a move, a recategorised film, a price."""
    now = timezone.now().replace(microsecond=0)
    customer = Customer.objects.filter(active=True).first()
    free = Inventory.objects.exclude(rentals__return_date__isnull=True).order_by("pk")[:3]
    new_rentals = []
    for copy in free:
        rental = Rental.objects.create(
            rental_date=now, inventory=copy, customer=customer, staff_id=copy.store_id
        )
        Payment.objects.create(
            customer=customer, staff_id=copy.store_id, rental=rental,
            amount=copy.film.rental_rate, payment_date=now,
        )  # fmt: skip
        new_rentals.append(rental.pk)
    returned = list(Rental.objects.filter(return_date__isnull=True).order_by("pk")[:2])
    for rental in returned:
        rental.return_date = now
        rental.save()
    late_fee = Payment.objects.create(
        customer=returned[0].customer, staff_id=1, rental=returned[0],
        amount=Decimal("3.00"), payment_date=now,
    )  # fmt: skip
    mover = Customer.objects.order_by("pk")[5]
    mover.address = Address.objects.create(
        address="1 New Street", district="North", city_id=1, phone="555"
    )
    mover.save()
    renamed = Customer.objects.order_by("pk")[6]  # their address itself changes
    renamed.address.address = "2 Renamed Road"
    renamed.address.save()
    film = Film.objects.order_by("pk")[7]
    old_link = FilmCategory.objects.get(film=film)
    new_category = Category.objects.exclude(pk=old_link.category_id).first()
    FilmCategory.objects.filter(film=film).delete()
    FilmCategory.objects.create(film=film, category=new_category)
    priced = Film.objects.order_by("pk")[8]
    priced.rental_rate = Decimal("1.49")
    priced.save()
    return {
        "new_rentals": new_rentals,
        "returned": [r.pk for r in returned],
        "late_fee": late_fee,
        "mover": mover,
        "renamed": renamed,
        "film": film,
        "new_category": new_category,
        "priced": priced,
    }


@pytest.mark.slow
def test_incremental_run_updates_exactly_what_changed(sakila_lake):
    sakila_lake(scale=0.05, seed=9)
    facts_before = lake_query("select count(*) as n from fact_sales")[0]["n"]
    changes = make_desk_changes()

    incremental = run_pipeline()

    assert not incremental.full
    steps = {step.name: step for step in incremental.steps.all()}
    assert steps["stage rental"].rows == 3 + 2  # new and returned rentals
    assert steps["stage payment"].rows == 3 + 1
    assert steps["fact_sales"].rows == 3 + 2  # the rentals touched, nothing else
    assert steps["dim_customer"].rows == 2  # the mover, and the one whose address changed
    assert steps["dim_film"].rows == 2  # the recategorised film and the new price
    assert steps["dim_actor"].rows == steps["bridge_film_actor"].rows == 0
    assert lake_query("select count(*) as n from fact_sales")[0]["n"] == facts_before + 3
    returned = lake_query(
        "select rental_id, is_returned, amount from fact_sales "
        f"where rental_id = {changes['returned'][0]}"
    )[0]
    assert returned["is_returned"] is True
    assert returned["amount"] >= Decimal("3.00")
    moved = lake_query(
        f"select address from dim_customer where customer_id = {changes['mover'].pk}"
    )
    assert moved == [{"address": "1 New Street"}]
    renamed = lake_query(
        f"select address from dim_customer where customer_id = {changes['renamed'].pk}"
    )
    assert renamed == [{"address": "2 Renamed Road"}]
    film = lake_query(f"select category from dim_film where film_id = {changes['film'].pk}")
    assert film == [{"category": changes["new_category"].name}]
    price = lake_query(f"select rental_rate from dim_film where film_id = {changes['priced'].pk}")
    assert price == [{"rental_rate": Decimal("1.49")}]

    # A small part of fact_sales was rewritten: the months the changes fall in.
    fact_sales = load_table("marts.fact_sales")
    total_files = len(fact_sales.scan().plan_files())
    assert 0 < steps["fact_sales"].files_written < total_files

    incremental_contents = marts_contents()
    run_pipeline(full=True)
    assert marts_contents() == incremental_contents


@pytest.mark.slow
def test_a_run_without_changes_changes_nothing(sakila_lake):
    first = sakila_lake(scale=0.05, seed=9)

    second = run_pipeline()

    # Rows read again inside the overlap window are unchanged: no new snapshot.
    assert second.snapshots == first.snapshots
    assert all(step.rows == 0 for step in second.steps.exclude(name__startswith="extract")
               .exclude(name="crawl"))  # fmt: skip


def test_new_rentals_are_added_once(sakila_lake):
    sakila_lake(scale=0.05, seed=9)
    make_desk_changes()
    run_pipeline()
    run_pipeline()  # the same changes again (overlap window): still no duplicate
    counts = lake_query("select count(*) as n, count(distinct rental_id) as ids from fact_sales")[0]
    assert counts["n"] == counts["ids"] == Rental.objects.count()


def delete_rental(rental: Rental) -> None:
    rental.payments.all().delete()  # every rental has its rate's payment
    rental.delete()


def delete_customer(customer: Customer) -> None:
    Payment.objects.filter(customer=customer).delete()
    for rental in customer.rentals.all():
        delete_rental(rental)
    customer.delete()


def delete_film(film: Film) -> None:
    for rental in Rental.objects.filter(inventory__film=film):
        delete_rental(rental)
    film.inventory.all().delete()
    film.delete()  # its actor and category links go with it


DELETES = {
    "rental": lambda: delete_rental(Rental.objects.order_by("pk")[10]),
    "payment": lambda: Payment.objects.order_by("pk")[10].delete(),
    "customer": lambda: delete_customer(Customer.objects.order_by("pk")[3]),
    "film": lambda: delete_film(Film.objects.order_by("pk")[2]),
}


@pytest.mark.parametrize("kind", DELETES)
@pytest.mark.slow
def test_deleted_rows_leave_the_marts_in_the_next_incremental_run(sakila_lake, kind):
    sakila_lake(scale=0.03, seed=5)
    DELETES[kind]()

    incremental = run_pipeline()

    assert not incremental.full
    deleted = incremental.steps.get(name=f"stage {kind}")
    assert "new, changed or deleted" in deleted.log and deleted.rows >= 1
    after_incremental = marts_contents()
    run_pipeline(full=True)
    assert after_incremental == marts_contents()


@pytest.mark.slow
def test_a_run_without_deletes_reads_no_keys(sakila_lake, django_assert_max_num_queries):
    sakila_lake(scale=0.02, seed=11)
    make_desk_changes()
    run = run_pipeline()
    # Staging's counts equal the source's: no key set was read (the counts say so).
    assert all(
        step.rows == 0 for step in run.steps.filter(name__startswith="stage ")
        if step.name not in {"stage rental", "stage payment", "stage customer", "stage address",
                             "stage film", "stage film_category"}
    )  # fmt: skip
    from lake.models import Watermark

    assert Watermark.objects.get(table="rental").rows == Rental.objects.count()


def test_watermark_moves_with_the_data(sakila_lake):
    first = sakila_lake(scale=0.02, seed=11)
    Customer.objects.filter(pk=1).update(first_name="LATER")
    second = run_pipeline()
    assert second.watermarks_from == first.watermarks_to
    assert second.watermarks_to["customer"] > first.watermarks_to["customer"]
    assert PipelineRun.objects.filter(status="succeeded").count() == 2
    assert timezone.now() - timedelta(minutes=1) < second.finished_at
