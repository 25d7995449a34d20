"""The API's money: balances with accrued fees, returns that take a payment
only when asked, payments larger than owed."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from rentals import pricing, services
from rentals.models import Payment, Rental
from tests.problems import errors_of
from tests.rentals.api.conftest import BACKDATED

pytestmark = pytest.mark.django_db


@pytest.fixture
def late_rental(film, customer, clerk):
    """Rented on 2025-03-04 10:15 for 3 days (replacement cost $19.99)."""
    return services.rental_create(
        customer=customer, film=film, staff=clerk.staff_profile.staff, rental_date=BACKDATED
    )


def test_a_customer_shows_accrued_fees_in_balance_and_overdue(clerk_api, late_rental, customer):
    body = clerk_api.get(f"/api/customers/{customer.pk}/").json()
    # Out for more than a year: the fee stopped at the copy's replacement cost.
    assert body["balance"] == "19.99"
    assert body["open_rentals"] == 1
    [overdue] = body["overdue"]
    assert overdue["rental"] == late_rental.pk and overdue["late_fee"] == "19.99"
    assert overdue["due_date"] == "2025-03-07T10:15:00"
    assert overdue["days_late"] == (pricing.now().date() - datetime(2025, 3, 7).date()).days


def test_a_return_takes_a_payment_when_asked(clerk_api, clerk, late_rental, customer):
    response = clerk_api.post(
        f"/api/rentals/{late_rental.pk}/return/",
        {"return_date": "2025-03-12T09:00:00", "payment_amount": "3.00"},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["late_fee"] == "5.00"
    payment = Payment.objects.get(amount=Decimal("3.00"))
    assert body["payments"] == [
        {
            "id": payment.pk,
            "customer": customer.pk,
            "staff": clerk.staff_profile.staff.pk,
            "rental": late_rental.pk,
            "amount": "3.00",
            "payment_date": "2025-03-12T09:00:00",
        }
    ]
    assert clerk_api.get(f"/api/customers/{customer.pk}/").json()["balance"] == "2.00"


@pytest.mark.parametrize(
    ("amount", "field_message"),
    [
        ("0", "The amount must be between $0.01 and $999.99, not 0."),
        ("-2", "The amount must be between $0.01 and $999.99, not -2."),
        ("6.00", "$6.00 is more than MARY SMITH owes ($5.00); confirm to keep"),
    ],
)
def test_a_refused_payment_refuses_the_return_too(clerk_api, late_rental, amount, field_message):
    response = clerk_api.post(
        f"/api/rentals/{late_rental.pk}/return/",
        {"return_date": "2025-03-12T09:00:00", "payment_amount": amount},
        format="json",
    )
    assert response.status_code == 400
    [message] = errors_of(response)["payment_amount"]
    assert message.startswith(field_message)
    assert Rental.objects.get().return_date is None and Payment.objects.count() == 1


def test_a_payment_over_the_balance_needs_confirming(clerk_api, customer):
    body = {"customer": customer.pk, "amount": "5.00"}
    response = clerk_api.post("/api/payments/", body, format="json")
    assert response.status_code == 400
    assert "confirm to keep the difference as credit" in errors_of(response)["amount"][0]
    assert not Payment.objects.exists()

    response = clerk_api.post(
        "/api/payments/", {**body, "confirm_overpayment": True}, format="json"
    )
    assert response.status_code == 201
    assert clerk_api.get(f"/api/customers/{customer.pk}/").json()["balance"] == "-5.00"


def test_renting_above_the_limit_is_a_400_on_customer(clerk_api, late_rental, customer, settings):
    settings.DESK_BALANCE_LIMIT = Decimal("10.00")
    services.rental_return(
        rental=late_rental,
        staff=late_rental.staff,
        return_date=BACKDATED + timedelta(days=30),
    )
    response = clerk_api.post(
        "/api/rentals/", {"customer": customer.pk, "film": late_rental.inventory.film_id}
    )
    assert response.status_code == 400
    assert errors_of(response)["customer"] == [
        "MARY SMITH owes $19.99, more than the desk's limit of $10.00: "
        "take a payment before renting."
    ]
    assert Rental.objects.count() == 1
