from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError

from rentals import pricing, selectors, services
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
    before = pricing.now()
    rental = services.rental_create(customer=customer, film=film, staff=staff)
    assert before <= rental.rental_date <= pricing.now()


def test_the_last_copy_cannot_be_rented_twice(staff, film, customer):
    services.rental_create(customer=customer, film=film, staff=staff)
    with pytest.raises(ValidationError) as error:
        services.rental_create(customer=CustomerFactory(), film=film, staff=staff)
    assert refusal(error) == {"film": [services.no_free_copy_message(film=film, store=staff.store)]}
    assert Rental.objects.count() == 1 and Payment.objects.count() == 1


def test_a_returned_copy_can_be_rented_again(staff, film, customer):
    first = services.rental_create(
        customer=customer, film=film, staff=staff, rental_date=datetime(2026, 1, 1, 9)
    )
    services.rental_return(rental=first, staff=staff, return_date=datetime(2026, 1, 2, 9))
    second = services.rental_create(customer=customer, film=film, staff=staff)
    assert second.inventory == first.inventory


@pytest.fixture
def frozen_now(monkeypatch) -> datetime:
    """The business clock stopped on one second: everything below happens in it."""
    second = datetime(2026, 3, 2, 14, 5, 9)
    monkeypatch.setattr(pricing, "now", lambda: second)
    return second


def test_a_copy_returned_this_second_can_be_rented_this_second(staff, film, customer, frozen_now):
    first = services.rental_create(customer=customer, film=film, staff=staff)
    services.rental_return(rental=first, staff=staff)
    other = CustomerFactory(store=staff.store)

    again = services.rental_create(customer=other, film=film, staff=staff)

    assert (again.inventory, again.customer, again.rental_date) == (
        first.inventory,
        other,
        frozen_now,
    )
    # Backdated the same way: returned at 10:00, free for a rental at 10:00.
    at = datetime(2026, 1, 5, 10)
    services.rental_return(rental=again, staff=staff)
    copy = InventoryFactory(film=FilmFactory(), store=staff.store)
    earlier = services.rental_create(
        customer=customer, film=copy.film, staff=staff, rental_date=datetime(2026, 1, 1, 10)
    )
    services.rental_return(rental=earlier, staff=staff, return_date=at)
    assert (
        services.rental_create(
            customer=other, film=copy.film, staff=staff, rental_date=at
        ).inventory
        == copy
    )


def test_the_same_customer_renting_it_again_that_second(staff, film, customer, frozen_now):
    # Sakila keeps one rental per customer, copy and second (rental's unique key).
    first = services.rental_create(customer=customer, film=film, staff=staff)
    services.rental_return(rental=first, staff=staff)

    again = services.rental_create(customer=customer, film=film, staff=staff)
    assert again.inventory == first.inventory
    assert again.rental_date == frozen_now + timedelta(seconds=1)


def test_a_customer_renting_a_copy_twice_in_one_given_second_is_told_why(staff, film, customer):
    # A date given by the clerk is kept as given, or refused saying why.
    at = datetime(2026, 1, 5, 10)
    first = services.rental_create(customer=customer, film=film, staff=staff, rental_date=at)
    services.rental_return(rental=first, staff=staff, return_date=at)
    with pytest.raises(ValidationError) as error:
        services.rental_create(customer=customer, film=film, staff=staff, rental_date=at)
    assert refusal(error) == {
        "rental_date": [services.SAME_SECOND.format(customer=customer, film=film, date=at)]
    }
    assert Rental.objects.count() == 1


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
        kwargs["rental_date"] = pricing.now() + timedelta(hours=1)
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


def test_a_date_before_the_stores_records_of_the_film_says_so(staff, film, customer):
    copy = Inventory.objects.get(film=film)
    RentalFactory(
        inventory=copy,
        customer=customer,
        staff=staff,
        rental_date=datetime(2005, 5, 24, 22, 53),
        return_date=datetime(2005, 5, 26, 22, 4),
    )
    at = datetime(1990, 1, 1, 10)

    with pytest.raises(ValidationError) as error:
        services.rental_create(customer=customer, film=film, staff=staff, rental_date=at)

    assert refusal(error) == {
        "rental_date": [
            f"No copy of {film} at {staff.store} is on record on 1990-01-01: "
            "the store's records of it start on 2005-05-24."
        ]
    }
    assert Rental.objects.count() == 1 and not Payment.objects.exists()
    # Earlier the same day: the times tell them apart.
    at = datetime(2005, 5, 24, 9, 30)
    with pytest.raises(ValidationError) as error:
        services.rental_create(customer=customer, film=film, staff=staff, rental_date=at)
    assert refusal(error)["rental_date"][0].endswith(
        "is on record on 2005-05-24 09:30: the store's records of it start on 2005-05-24 22:53."
    )


def test_a_date_since_which_every_copy_was_out_says_so(staff, film, customer):
    copy = Inventory.objects.get(film=film)
    RentalFactory(
        inventory=copy,
        customer=customer,
        staff=staff,
        rental_date=datetime(2026, 1, 1, 10),
        return_date=datetime(2026, 1, 4, 10),
    )
    # On the shelf now, but out on the 3rd: a rental from then would overlap.
    at = datetime(2026, 1, 3, 10)
    with pytest.raises(ValidationError) as error:
        services.rental_create(customer=customer, film=film, staff=staff, rental_date=at)
    assert refusal(error) == {
        "rental_date": [services.NO_FREE_COPY_SINCE.format(film=film, store=staff.store, date=at)]
    }
    assert "was free from 2026-01-03 10:00 until now" in refusal(error)["rental_date"][0]
    assert Rental.objects.count() == 1


@pytest.mark.parametrize(
    ("returned", "days_late", "fee"),
    [
        (datetime(2026, 1, 2, 9), 0, Decimal("0.00")),  # on time
        (datetime(2026, 1, 4, 23, 59), 0, Decimal("0.00")),  # the due day, to its last minute
        (datetime(2026, 1, 5, 0, 1), 1, Decimal("1.00")),  # one calendar day late
        (datetime(2026, 1, 10, 9), 6, Decimal("6.00")),  # $1 a day, nothing on top
        (datetime(2026, 1, 23, 9), 19, Decimal("19.00")),  # a day under the cap
        (datetime(2026, 1, 24, 9), 20, Decimal("19.99")),  # the cap: the copy's worth
        (datetime(2026, 6, 1, 9), 148, Decimal("19.99")),  # kept months: still the cap
    ],
)
def test_returning_late_makes_a_capped_fee_owed_not_paid(
    staff, film, customer, returned, days_late, fee
):
    rented = datetime(2026, 1, 1, 18)  # due 2026-01-04 18:00: the fee counts calendar days
    rental = services.rental_create(customer=customer, film=film, staff=staff, rental_date=rented)

    result = services.rental_return(rental=rental, staff=staff, return_date=returned)

    assert (result.days_late, result.late_fee, result.payments) == (days_late, fee, [])
    rental.refresh_from_db()
    assert rental.return_date == returned
    # Only the rate, paid at the counter when renting: the fee was not received.
    assert list(Payment.objects.values_list("amount", flat=True)) == [Decimal("2.99")]
    assert selectors.customer_balance_get(customer=customer) == fee


def test_an_open_rental_accrues_its_fee_as_of_a_time(staff, film, customer):
    rental = services.rental_create(
        customer=customer, film=film, staff=staff, rental_date=datetime(2026, 1, 1, 18)
    )

    def balance(at: datetime) -> Decimal:
        return selectors.customer_balance_get(customer=customer, as_of=at)

    assert balance(datetime(2026, 1, 4, 23, 59)) == Decimal("0.00")  # due day
    assert balance(datetime(2026, 1, 5, 0, 0)) == Decimal("1.00")  # one day late
    assert balance(datetime(2026, 1, 12, 8)) == Decimal("8.00")
    assert balance(datetime(2030, 1, 1)) == Decimal("19.99")  # capped, as if lost
    # Before the rental existed nothing was charged or paid.
    assert balance(datetime(2025, 12, 31)) == Decimal("0.00")
    [overdue] = selectors.customer_overdue_rentals(customer=customer, as_of=datetime(2026, 1, 9))
    assert (overdue, overdue.days_late, overdue.late_fee) == (rental, 5, Decimal("5.00"))
    assert selectors.customer_overdue_rentals(customer=customer, as_of=datetime(2026, 1, 4)) == []
    # Returned later than the as-of time: as of then it was still out, accruing.
    services.rental_return(rental=rental, staff=staff, return_date=datetime(2026, 1, 20))
    assert balance(datetime(2026, 1, 9)) == Decimal("5.00")
    assert balance(datetime(2026, 2, 1)) == Decimal("16.00")  # final at its return


def test_a_return_can_take_all_or_part_of_the_fee(staff, film, customer):
    rental = services.rental_create(
        customer=customer, film=film, staff=staff, rental_date=datetime(2026, 1, 1, 18)
    )
    result = services.rental_return(
        rental=rental,
        staff=staff,
        return_date=datetime(2026, 1, 10, 9),
        payment_amount=Decimal("4.00"),
    )

    assert result.late_fee == Decimal("6.00")
    [payment] = result.payments
    assert (payment.amount, payment.rental, payment.customer) == (Decimal("4.00"), rental, customer)
    assert selectors.customer_balance_get(customer=customer) == Decimal("2.00")  # partly paid
    services.payment_create(customer=customer, staff=staff, amount=Decimal("2.00"))
    assert selectors.customer_balance_get(customer=customer) == Decimal("0.00")


def test_a_refused_payment_with_a_return_leaves_the_copy_out(staff, film, customer):
    rental = services.rental_create(
        customer=customer, film=film, staff=staff, rental_date=datetime(2026, 1, 1, 18)
    )
    with pytest.raises(ValidationError) as error:
        services.rental_return(
            rental=rental, staff=staff, return_date=datetime(2026, 1, 10), payment_amount=0
        )
    assert list(refusal(error)) == ["amount"]
    rental.refresh_from_db()
    assert rental.return_date is None and rental.payments.count() == 1


def test_more_than_owed_is_refused_unless_confirmed(staff, film, customer):
    with pytest.raises(ValidationError) as error:
        services.payment_create(customer=customer, staff=staff, amount=Decimal("5.00"))
    assert services.is_overpayment(error.value)
    assert refusal(error)["amount"] == [
        f"$5.00 is more than {customer} owes ($0.00); "
        "confirm to keep the difference as credit on the account."
    ]
    assert not Payment.objects.exists()

    services.payment_create(
        customer=customer, staff=staff, amount=Decimal("5.00"), confirm_overpayment=True
    )
    assert selectors.customer_balance_get(customer=customer) == Decimal("-5.00")  # in credit


def test_paying_exactly_what_is_owed_needs_no_confirmation(staff, film, customer):
    rental = RentalFactory(
        inventory=Inventory.objects.get(film=film),
        customer=customer,
        staff=staff,
        rental_date=datetime(2026, 1, 1, 12),
        return_date=datetime(2026, 1, 6, 12),
    )  # made without the service: rate and 2 days late owed
    assert selectors.customer_balance_get(customer=customer) == Decimal("4.99")
    with pytest.raises(ValidationError):
        services.payment_create(customer=customer, staff=staff, amount=Decimal("5.00"))

    payment = services.payment_create(
        customer=customer, staff=staff, amount=Decimal("4.99"), rental=rental
    )

    assert (payment.amount, payment.rental, payment.staff) == (Decimal("4.99"), rental, staff)
    assert selectors.customer_balance_get(customer=customer) == Decimal("0.00")


def test_renting_above_the_balance_limit_is_refused(staff, film, customer, settings):
    settings.DESK_BALANCE_LIMIT = Decimal("5.00")
    rental = services.rental_create(
        customer=customer, film=film, staff=staff, rental_date=datetime(2026, 1, 1, 18)
    )
    services.rental_return(rental=rental, staff=staff, return_date=datetime(2026, 1, 10))
    assert selectors.customer_balance_get(customer=customer) == Decimal("6.00")

    with pytest.raises(ValidationError) as error:
        services.rental_create(customer=customer, film=film, staff=staff)
    assert refusal(error)["customer"] == [
        f"{customer} owes $6.00, more than the desk's limit of $5.00: take a payment before renting."
    ]
    assert Rental.objects.count() == 1

    services.payment_create(customer=customer, staff=staff, amount=Decimal("1.00"))
    services.rental_create(customer=customer, film=film, staff=staff)  # at the limit: allowed
    assert Rental.objects.count() == 2


def test_an_email_shared_by_customers_finds_none_of_them(store):
    first = CustomerFactory(store=store, email="family@example.com")
    CustomerFactory(store=store, email="FAMILY@example.com")
    alone = CustomerFactory(store=store, email="alone@example.com")

    assert selectors.customer_get_by_id_or_email(value="family@example.com") is None
    assert selectors.customers_with_email(email="Family@Example.com").first() == first
    assert selectors.customers_with_email(email="family@example.com").count() == 2
    assert selectors.customer_get_by_id_or_email(value="alone@example.com") == alone


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
        return_date = pricing.now() + timedelta(days=1)
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
