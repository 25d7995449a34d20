from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from rentals import selectors, services
from rentals.models import Inventory, Payment, Rental
from sakila_site import roles
from tests.factories import (
    CustomerFactory,
    FilmFactory,
    InventoryFactory,
    RentalFactory,
    StaffFactory,
    StoreFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(store):
    return StaffFactory(store=store)


@pytest.fixture
def film(store):
    """A 3-day film at $2.99 (replacement $19.99) with one copy at ``store``."""
    film = FilmFactory(
        rental_duration=3, rental_rate=Decimal("2.99"), replacement_cost=Decimal("19.99")
    )
    InventoryFactory(film=film, store=store)
    return film


@pytest.fixture
def customer(store):
    return CustomerFactory(store=store)


def refusal(error: pytest.ExceptionInfo) -> dict[str, list[str]]:
    return error.value.message_dict


def nothing_written() -> bool:
    return not Rental.objects.exists() and not Payment.objects.exists()


def test_renting_takes_a_free_copy_at_the_clerks_store_and_charges_the_rate(staff, film, customer):
    other_store_copy = InventoryFactory(film=film, store=StoreFactory())
    rented_at = datetime(2026, 1, 5, 10, 30)

    rental = services.rental_create(
        customer=customer, film=film, staff=staff, rental_date=rented_at
    )

    assert rental.inventory.store == staff.store and rental.inventory != other_store_copy
    assert (rental.customer, rental.staff, rental.rental_date) == (customer, staff, rented_at)
    assert rental.return_date is None
    assert rental.due_date == rented_at + timedelta(days=3)
    [payment] = rental.payments.all()
    assert (payment.amount, payment.payment_date, payment.staff) == (
        Decimal("2.99"),
        rented_at,
        staff,
    )


def test_rental_date_defaults_to_now(staff, film, customer):
    before = services.now()
    rental = services.rental_create(customer=customer, film=film, staff=staff)
    assert before <= rental.rental_date <= services.now()


def test_the_last_copy_cannot_be_rented_twice(staff, film, customer):
    services.rental_create(customer=customer, film=film, staff=staff)
    with pytest.raises(ValidationError) as error:
        services.rental_create(customer=CustomerFactory(), film=film, staff=staff)
    assert refusal(error) == {"film": [services.NO_FREE_COPY.format(film=film, store=staff.store)]}
    assert Rental.objects.count() == 1 and Payment.objects.count() == 1


def test_a_returned_copy_can_be_rented_again(staff, film, customer):
    first = services.rental_create(
        customer=customer, film=film, staff=staff, rental_date=datetime(2026, 1, 1, 9)
    )
    services.rental_return(rental=first, staff=staff, return_date=datetime(2026, 1, 2, 9))
    second = services.rental_create(customer=customer, film=film, staff=staff)
    assert second.inventory == first.inventory


@pytest.mark.parametrize(
    "problem", ["inactive customer", "future date", "film not stocked here", "inactive staff"]
)
def test_renting_refusals_name_the_field_and_write_nothing(staff, film, customer, problem):
    kwargs = {"customer": customer, "film": film, "staff": staff}
    if problem == "inactive customer":
        customer.active = False
        customer.save()
        expected = {"customer": services.CUSTOMER_INACTIVE.format(customer=customer)}
    elif problem == "future date":
        kwargs["rental_date"] = services.now() + timedelta(hours=1)
        expected = {
            "rental_date": services.RENTAL_DATE_IN_FUTURE.format(date=kwargs["rental_date"])
        }
    elif problem == "film not stocked here":
        kwargs["film"] = FilmFactory()
        expected = {
            "film": services.FILM_NOT_STOCKED.format(film=kwargs["film"], store=staff.store)
        }
    else:
        staff.active = False
        staff.save()
        expected = {"staff": services.STAFF_INACTIVE.format(staff=staff)}
    with pytest.raises(ValidationError) as error:
        services.rental_create(**kwargs)
    assert refusal(error) == {field: [text] for field, text in expected.items()}
    assert nothing_written()


def test_a_backdated_rental_skips_copies_that_were_out_then(staff, film, customer):
    busy_then = Inventory.objects.get(film=film)
    RentalFactory(
        inventory=busy_then,
        customer=customer,
        staff=staff,
        rental_date=datetime(2026, 1, 1, 10),
        return_date=datetime(2026, 1, 5, 10),
    )
    free_then = InventoryFactory(film=film, store=staff.store)

    rental = services.rental_create(
        customer=customer, film=film, staff=staff, rental_date=datetime(2026, 1, 3, 10)
    )
    assert rental.inventory == free_then


@pytest.mark.parametrize(
    ("days_kept", "fee"),
    [
        (1, Decimal("0.00")),  # on time
        (3, Decimal("0.00")),  # the last day of rental_duration
        (5, Decimal("2.00")),  # $1 per day past 3 days
        (6, Decimal("3.00")),  # exactly twice the duration: no replacement yet
        (7, Decimal("4.00") + Decimal("19.99")),  # more than twice: replacement cost too
    ],
)
def test_returning_charges_late_days_and_replacement_cost(staff, film, customer, days_kept, fee):
    rented = datetime(2026, 1, 1, 18)
    rental = services.rental_create(customer=customer, film=film, staff=staff, rental_date=rented)
    # Calendar days count, as MySQL's TO_DAYS: 23:00 on day N is N days later.
    returned = datetime(2026, 1, 1 + days_kept, 9)

    result = services.rental_return(rental=rental, staff=staff, return_date=returned)

    assert (result.days_kept, result.late_fee) == (days_kept, fee)
    rental.refresh_from_db()
    assert rental.return_date == returned
    fee_payments = Payment.objects.filter(rental=rental).exclude(payment_date=rented)
    assert sum(p.amount for p in fee_payments) == fee
    assert [p.pk for p in result.payments] == [p.pk for p in fee_payments]
    assert selectors.customer_balance_get(customer=customer) == Decimal("0.00")


def test_a_very_late_return_is_charged_in_payments_a_row_can_hold(staff, film, customer):
    rental = services.rental_create(
        customer=customer, film=film, staff=staff, rental_date=datetime(2020, 1, 1, 12)
    )
    result = services.rental_return(
        rental=rental, staff=staff, return_date=datetime(2023, 1, 1, 12)
    )
    assert result.late_fee == Decimal(1096 - 3) + Decimal("19.99")
    assert all(p.amount <= services.MAX_PAYMENT for p in result.payments)
    assert sum(p.amount for p in result.payments) == result.late_fee


@pytest.mark.parametrize(
    ("return_date", "field", "start"),
    [
        (datetime(2025, 12, 31), "return_date", "The return date is before"),
        ("future", "return_date", "The return date"),
    ],
)
def test_return_date_must_be_between_rental_and_now(
    staff, film, customer, return_date, field, start
):
    rental = services.rental_create(
        customer=customer, film=film, staff=staff, rental_date=datetime(2026, 1, 1, 12)
    )
    if return_date == "future":
        return_date = services.now() + timedelta(days=1)
    with pytest.raises(ValidationError) as error:
        services.rental_return(rental=rental, staff=staff, return_date=return_date)
    assert refusal(error)[field][0].startswith(start)
    rental.refresh_from_db()
    assert rental.return_date is None and rental.payments.count() == 1


def test_a_rental_is_returned_once(staff, film, customer):
    rental = services.rental_create(customer=customer, film=film, staff=staff)
    services.rental_return(rental=rental, staff=staff)
    with pytest.raises(ValidationError) as error:
        services.rental_return(rental=rental, staff=staff)
    assert refusal(error)["rental"][0].startswith(f"Rental {rental.pk} was already returned")


def test_payments_go_to_the_customers_balance(staff, film, customer):
    rental = RentalFactory(
        inventory=Inventory.objects.get(film=film),
        customer=customer,
        staff=staff,
        rental_date=datetime(2026, 1, 1, 12),
        return_date=datetime(2026, 1, 6, 12),
    )
    assert selectors.customer_balance_get(customer=customer) == Decimal("4.99")  # 2.99 + 2 days

    payment = services.payment_create(
        customer=customer, staff=staff, amount=Decimal("4.99"), rental=rental
    )

    assert (payment.amount, payment.rental, payment.staff) == (Decimal("4.99"), rental, staff)
    assert selectors.customer_balance_get(customer=customer) == Decimal("0.00")
    services.payment_create(customer=customer, staff=staff, amount=Decimal("1.50"))
    assert selectors.customer_balance_get(customer=customer) == Decimal("-1.50")


@pytest.mark.parametrize("amount", ["0", "-1", "1000", "0.001"])
def test_payment_amounts_must_fit_the_column(staff, customer, amount):
    with pytest.raises(ValidationError) as error:
        services.payment_create(customer=customer, staff=staff, amount=Decimal(amount))
    assert list(refusal(error)) == ["amount"]
    assert not Payment.objects.exists()


def test_a_payment_for_someone_elses_rental_is_refused(staff, film, customer):
    rental = services.rental_create(customer=CustomerFactory(), film=film, staff=staff)
    with pytest.raises(ValidationError) as error:
        services.payment_create(customer=customer, staff=staff, amount=Decimal("1"), rental=rental)
    assert list(refusal(error)) == ["rental"]
    assert Payment.objects.count() == 1  # the rental's own


def test_staff_user_create_gives_a_role_and_a_staff_row(staff):
    user = services.staff_user_create(
        username="dana", password="a-long-password", role=roles.CLERK, staff=staff
    )
    assert user.is_staff and not user.is_superuser
    assert list(user.groups.all()) == [Group.objects.get(name=roles.CLERK)]
    assert selectors.staff_for_user(user) == staff
    assert user.has_perm("rentals.add_rental") and not user.has_perm("rentals.change_film")
