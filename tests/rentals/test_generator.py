from collections import defaultdict
from datetime import date, timedelta
from itertools import pairwise

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from rentals import bulk, pricing, selectors
from rentals.generator import BASE_COUNTS, PERIOD_END, generate_sakila, scaled_counts
from rentals.models import SAKILA_MODELS, Customer, Film, FilmText, Inventory, Payment, Rental
from rentals.pricing import late_fee
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table, ordered by primary key, without last_update."""
    rows = {}
    for model in SAKILA_MODELS:
        fields = [f.attname for f in model._meta.concrete_fields if f.column != "last_update"]
        order = [f.attname for f in model._meta.pk_fields]
        rows[model._meta.db_table] = list(model.objects.order_by(*order).values_list(*fields))
    return rows


def test_scale_1_has_the_real_row_counts():
    report = generate_sakila(scale=1, seed=7)

    expected = {
        **{table: count for table, count in BASE_COUNTS.items()},
        "address": 603, "film_category": 1000, "film_text": 1000, "staff": 2, "store": 2,
    }  # fmt: skip
    # Payments follow the money rules, not Sakila's count: one per rental (its
    # rate), plus the late fees paid at return, plus 5 on account.
    payments = report.rows.pop("payment")
    assert BASE_COUNTS["rental"] + 5 < payments < 1.15 * BASE_COUNTS["payment"]
    assert report.rows == {k: v for k, v in expected.items() if k != "payment"}
    assert bulk.sakila_row_counts() == {**expected, "payment": payments}


def test_scale_multiplies_customers_copies_rentals_and_payments():
    counts = scaled_counts(10)
    assert (counts["customer"], counts["inventory"], counts["rental"], counts["payment"]) == (
        5990,
        45810,
        160440,
        160490,
    )
    assert counts["film"] == 1000 and counts["actor"] == 200

    report = generate_sakila(scale=0.1, seed=3)
    assert report.rows["customer"] == 60
    assert report.rows["address"] == 64
    assert report.rows["inventory"] == 458
    assert report.rows["rental"] == 1604
    assert 1604 < report.rows["payment"] < 1.15 * 1605
    assert report.rows["film"] == 1000


def test_the_same_seed_gives_the_same_data():
    generate_sakila(scale=0.05, seed=11)
    first = snapshot()
    generate_sakila(scale=0.05, seed=11, replace=True)
    assert snapshot() == first
    generate_sakila(scale=0.05, seed=12, replace=True)
    assert snapshot()["rental"] != first["rental"]


def test_references_resolve():
    generate_sakila(scale=0.2, seed=5)
    connection.check_constraints()  # every foreign key points at a row
    assert not Inventory.objects.exclude(film__in=Film.objects.all()).exists()
    assert FilmText.objects.count() == Film.objects.count()
    assert set(FilmText.objects.values_list("film_id", "title")) == set(
        Film.objects.values_list("film_id", "title")
    )
    # Staff work at the store whose copies they rent out.
    assert (
        not Rental.objects.exclude(staff__store=connection.ops and None)
        .filter(staff__store_id__isnull=True)
        .exists()
    )
    assert all(
        rental.staff.store_id == rental.inventory.store_id
        for rental in Rental.objects.select_related("staff", "inventory")[:500]
    )


def test_rentals_follow_the_business_rules():
    generate_sakila(scale=0.3, seed=2)
    films = {f.pk: f for f in Film.objects.all()}
    by_copy = defaultdict(list)
    rentals = list(Rental.objects.select_related("inventory", "customer"))
    for rental in rentals:
        by_copy[rental.inventory_id].append(rental)
        assert rental.customer.active
        assert rental.customer.create_date < rental.rental_date
        if rental.return_date is not None:
            assert rental.rental_date < rental.return_date <= PERIOD_END

    # A copy is never rented out while it is out.
    for copy_rentals in by_copy.values():
        copy_rentals.sort(key=lambda r: r.rental_date)
        for earlier, later in pairwise(copy_rentals):
            assert earlier.return_date is not None
            assert earlier.return_date <= later.rental_date

    # Money follows the rules: the rate paid at the counter when renting; at a
    # late return most pay the fee, some part of it, some leave it owed.
    payments = defaultdict(list)
    for rental_id, amount, paid_at in Payment.objects.filter(rental__isnull=False).values_list(
        "rental_id", "amount", "payment_date"
    ):
        payments[rental_id].append((paid_at, amount))
    fee_paid = fee_part = fee_owed = 0
    for rental in rentals:
        film = films[rental.inventory.film_id]
        [(paid_at, rate), *fee_payments] = sorted(payments[rental.rental_id])
        assert (paid_at, rate) == (rental.rental_date, film.rental_rate)
        if rental.return_date is None:
            assert fee_payments == []
            continue
        fee = late_fee(
            rental_duration=film.rental_duration,
            replacement_cost=film.replacement_cost,
            rental_date=rental.rental_date,
            until=rental.return_date,
        )
        assert fee <= film.replacement_cost
        if not fee:
            assert fee_payments == []
        elif not fee_payments:
            fee_owed += 1
        else:
            [(paid_at, amount)] = fee_payments
            assert paid_at == rental.return_date and 0 < amount <= fee
            fee_paid += amount == fee
            fee_part += amount < fee
    late = fee_paid + fee_part + fee_owed
    assert 0.05 < late / len(rentals) < 0.2
    assert fee_paid > 0.6 * late and 0 < fee_part < fee_owed < 0.3 * late
    still_out = [r for r in rentals if r.return_date is None]
    assert 0 < len(still_out) < 0.05 * len(rentals)


def test_demo_data_ends_today_with_copies_overdue():
    generate_sakila(scale=0.05, seed=5, end=date.today())
    now = pricing.now()
    last = Rental.objects.order_by("-rental_date").first().rental_date
    assert now - timedelta(days=2) < last <= now
    first = Rental.objects.order_by("rental_date").first().rental_date
    assert (last - first).days > 250
    assert Payment.objects.filter(payment_date__gt=now).count() == 0
    assert Rental.objects.filter(return_date__gt=now).count() == 0
    overdue = [
        rental
        for customer in Customer.objects.all()
        for rental in selectors.customer_overdue_rentals(customer=customer)
    ]
    assert overdue  # copies never returned, and some still out past due


def test_weekends_are_busier():
    generate_sakila(scale=0.3, seed=4)
    weekend = weekday = 0
    for rental_date in Rental.objects.values_list("rental_date", flat=True):
        if rental_date.weekday() >= 5:
            weekend += 1
        else:
            weekday += 1
    assert weekend / 2 > weekday / 5 * 1.2


def test_refuses_a_database_that_holds_data():
    CustomerFactory()
    with pytest.raises(ValueError, match="already holds Sakila data"):
        generate_sakila(scale=0.01)
    assert Customer.objects.count() == 1


@pytest.mark.parametrize("scale", ["0", "-1", "nan", "inf"])
def test_command_refuses_a_bad_scale(scale):
    with pytest.raises(CommandError, match="scale must be a number above 0"):
        call_command("generate_sakila", "--scale", scale)
    assert not any(bulk.sakila_row_counts().values())


def test_command_prints_counts(capsys):
    call_command("generate_sakila", "--scale", "0.01", "--seed", "3")
    out = capsys.readouterr().out
    assert "rental:        160 rows" in out
    assert "(scale 0.01, seed 3)" in out
