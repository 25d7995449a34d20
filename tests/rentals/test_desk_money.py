"""The desk's money screens: fees after a return, warnings before renting,
confirmation of payments larger than owed, customers sharing an email."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from rentals import forms, pricing, selectors, services
from rentals.models import Payment, Rental
from tests.factories import CustomerFactory, FilmFactory, InventoryFactory
from tests.rentals.test_views import page

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(client, clerk):
    client.force_login(clerk)
    return client


@pytest.fixture
def staff(clerk):
    return clerk.staff_profile.staff


@pytest.fixture
def film(store):
    """A 3-day film at $0.99 worth $9.99, with two copies at ``store``."""
    film = FilmFactory(
        title="ACADEMY DINOSAUR",
        rental_duration=3,
        rental_rate=Decimal("0.99"),
        replacement_cost=Decimal("9.99"),
    )
    InventoryFactory(film=film, store=store)
    InventoryFactory(film=film, store=store)
    return film


def late_return(staff, film, customer, days: int) -> Rental:
    rental = services.rental_create(
        customer=customer, film=film, staff=staff, rental_date=pricing.now() - timedelta(days)
    )
    services.rental_return(rental=rental, staff=staff)
    return rental


def test_the_fee_after_a_return_can_be_taken_in_part(desk, staff, film, customer):
    rental = late_return(staff, film, customer, days=8)  # 5 days late
    response = desk.post(
        reverse("desk:customer-pay", args=[customer.pk]),
        {"amount": "2.00", "rental": rental.pk},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("desk:rental", args=[rental.pk])
    payment = Payment.objects.get(amount=Decimal("2.00"))
    assert payment.rental == rental
    assert "balance: $3.00 owed" in page(response)
    # What is left is still offered, prefilled.
    assert response.context["payment_form"].initial["amount"] == Decimal("3.00")
    assert "Late fee $5.00: $3.00 still owed" in page(response)
    # Paid in full: nothing more is offered for this rental.
    desk.post(
        reverse("desk:customer-pay", args=[customer.pk]), {"amount": "3.00", "rental": rental.pk}
    )
    assert desk.get(reverse("desk:rental", args=[rental.pk])).context["payment_form"] is None


def test_a_huge_delay_costs_the_copy_not_thousands(desk, staff, film, customer):
    rental = late_return(staff, film, customer, days=7300)  # twenty years
    response = desk.get(reverse("desk:rental", args=[rental.pk]))
    assert response.context["late_fee"] == Decimal("9.99")
    assert "Late fee $9.99 owed" in page(response)
    assert selectors.customer_balance_get(customer=customer) == Decimal("9.99")


def test_renting_to_a_customer_who_owes_shows_it_first(desk, staff, film, customer):
    late_return(staff, film, customer, days=6)  # $3.00 owed
    data = {"customer": str(customer.pk), "film": film.pk}

    response = desk.post(reverse("desk:rent"), data)

    assert response.status_code == 200 and Rental.objects.count() == 1  # nothing rented yet
    assert response.context["rent_warning"].balance == Decimal("3.00")
    assert "$3.00 owed" in page(response) and "Rent anyway" in page(response)
    # Pressing "Rent anyway" sends the form again, marked as seen.
    assert re.search(r'<input type="hidden" name="acknowledged" value="(on|True)"', page(response))
    response = desk.post(reverse("desk:rent"), {**data, "acknowledged": "on"})
    assert response.status_code == 302 and Rental.objects.count() == 2


def test_renting_to_a_customer_with_an_overdue_copy_lists_it(desk, staff, film, customer):
    services.rental_create(
        customer=customer, film=film, staff=staff, rental_date=pricing.now() - timedelta(5)
    )
    response = desk.post(reverse("desk:rent"), {"customer": str(customer.pk), "film": film.pk})
    [overdue] = response.context["rent_warning"].overdue
    assert (overdue.days_late, overdue.late_fee) == (2, Decimal("2.00"))
    assert "1 copy overdue, $2.00 in fees so far" in page(response)


def test_a_customer_above_the_limit_is_refused(desk, staff, film, customer, settings):
    settings.DESK_BALANCE_LIMIT = Decimal("2.00")
    late_return(staff, film, customer, days=6)
    response = desk.post(reverse("desk:rent"), {"customer": str(customer.pk), "film": film.pk})
    assert response.status_code == 400 and Rental.objects.count() == 1
    assert "owes $3.00, more than the desk&#x27;s limit of $2.00" in page(response)


def test_a_customer_who_owes_nothing_rents_at_once(desk, film, customer):
    response = desk.post(reverse("desk:rent"), {"customer": "mary@x.org", "film": film.pk})
    assert response.status_code == 302 and Rental.objects.get().customer == customer


def test_a_shared_email_lists_the_customers_to_choose_from(desk, film, customer, store):
    sister = CustomerFactory(store=store, first_name="ANNA", email="MARY@x.org")
    response = desk.post(reverse("desk:rent"), {"customer": "mary@x.org", "film": film.pk})
    assert response.status_code == 400 and not Rental.objects.exists()
    message = forms.SHARED_EMAIL.format(count=2, email="mary@x.org")
    assert response.context["rent_form"].errors["customer"] == [message]
    assert response.context["shared_email"] == [customer, sister]
    assert f"#{sister.pk} ANNA" in page(response)


def test_paying_more_than_owed_asks_to_confirm(desk, customer):
    url = reverse("desk:customer-pay", args=[customer.pk])
    response = desk.post(url, {"amount": "5.00"})
    assert response.status_code == 400 and not Payment.objects.exists()
    assert "$5.00 is more than" in page(response) and "keep the difference as credit" in page(
        response
    )
    assert 'name="confirm_overpayment"' in page(response)

    response = desk.post(url, {"amount": "5.00", "confirm_overpayment": "on"}, follow=True)
    assert Payment.objects.get().amount == Decimal("5.00")
    assert "$5.00 in credit" in page(response)


@pytest.mark.parametrize(
    ("amount", "message"),
    [("0", "at least $0.01"), ("-5", "at least $0.01"), ("1000", "at most $999.99")],
)
def test_zero_negative_or_huge_amounts_are_refused(desk, customer, amount, message):
    response = desk.post(reverse("desk:customer-pay", args=[customer.pk]), {"amount": amount})
    assert response.status_code == 400 and message in page(response)
    assert not Payment.objects.exists()
