"""Renting, returning and paying through the API: the services' rules, as 400s."""

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from rentals import pricing, services
from rentals.models import Payment, Rental
from sakila_site.roles import CLERK
from tests.conftest import make_role_user
from tests.factories import CustomerFactory, FilmFactory, InventoryFactory, RentalFactory
from tests.problems import detail_of, errors_of
from tests.rentals.api.conftest import BACKDATED, client_for

pytestmark = pytest.mark.django_db


def rent(client, **body):
    return client.post("/api/rentals/", body, format="json")


def assert_nothing_written(rentals: int = 0, payments: int = 0) -> None:
    assert Rental.objects.count() == rentals
    assert Payment.objects.count() == payments


def test_renting_answers_with_the_stored_rental(clerk_api, clerk, film, customer, store):
    response = rent(
        clerk_api, customer=customer.pk, film=film.pk, rental_date="2025-03-04T10:15:00"
    )

    assert response.status_code == 201, response.content
    rental = Rental.objects.get()
    copy = film.inventory.get()
    body = response.json()
    assert body == {
        "id": rental.pk,
        "status": "open",
        "rental_date": "2025-03-04T10:15:00",
        "due_date": "2025-03-07T10:15:00",
        "return_date": None,
        "customer": customer.pk,
        "customer_name": "MARY SMITH",
        "inventory": copy.pk,
        "film": film.pk,
        "film_title": "ACADEMY DINOSAUR",
        "store": store.pk,
        "staff": clerk.staff_profile.staff.pk,
        "payments": [
            {
                "id": rental.payments.get().pk,
                "amount": "2.99",
                "payment_date": "2025-03-04T10:15:00",
            }
        ],
        "amount_charged": "2.99",
    }
    assert rental.rental_date == BACKDATED
    assert rental.staff == clerk.staff_profile.staff


def test_renting_without_a_date_rents_now(clerk_api, film, customer):
    before = pricing.now()
    response = rent(clerk_api, customer=customer.pk, film=film.pk)
    assert response.status_code == 201, response.content
    stored = Rental.objects.get().rental_date
    assert before <= stored <= pricing.now()
    assert response.json()["rental_date"] == f"{stored:%Y-%m-%dT%H:%M:%S}"


def test_a_copy_returned_this_second_is_rented_again_this_second(
    clerk_api, film, customer, store, monkeypatch
):
    second = datetime(2026, 3, 2, 14, 5, 9)
    monkeypatch.setattr(pricing, "now", lambda: second)
    first = rent(clerk_api, customer=customer.pk, film=film.pk).json()
    assert clerk_api.post(f"/api/rentals/{first['id']}/return/").status_code == 200
    copy = clerk_api.get(f"/api/inventory/{first['inventory']}/").json()
    assert copy["available"] is True

    other = CustomerFactory(store=store)
    response = rent(clerk_api, customer=other.pk, film=film.pk)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["inventory"], body["rental_date"]) == (copy["id"], "2026-03-02T14:05:09")

    # The same customer again, in the same second: the next second.
    assert clerk_api.post(f"/api/rentals/{body['id']}/return/").status_code == 200
    response = rent(clerk_api, customer=customer.pk, film=film.pk)
    assert response.status_code == 201, response.content
    assert response.json()["rental_date"] == "2026-03-02T14:05:10"


def test_a_time_with_an_offset_is_read_as_local_time(clerk_api, film, customer, settings):
    # TIME_ZONE is UTC in tests: 12:15+02:00 is 10:15 local.
    response = rent(
        clerk_api, customer=customer.pk, film=film.pk, rental_date="2025-03-04T12:15:00+02:00"
    )
    assert response.status_code == 201, response.content
    assert Rental.objects.get().rental_date == BACKDATED


def test_no_free_copy_is_a_400_on_film_and_writes_nothing(clerk_api, film, customer, store):
    RentalFactory(inventory=film.inventory.get(), return_date=None)
    response = rent(clerk_api, customer=customer.pk, film=film.pk)
    assert response.status_code == 400
    assert errors_of(response) == {"film": [services.no_free_copy_message(film=film, store=store)]}
    assert_nothing_written(rentals=1)


def test_a_film_not_stocked_at_the_store_is_a_400(clerk_api, customer, store):
    film = FilmFactory()
    InventoryFactory(film=film)  # at another store
    response = rent(clerk_api, customer=customer.pk, film=film.pk)
    assert response.status_code == 400
    assert errors_of(response) == {
        "film": [services.FILM_NOT_STOCKED.format(film=film, store=store)]
    }
    assert_nothing_written()


def test_an_inactive_customer_is_a_400_on_customer(clerk_api, film, store):
    customer = CustomerFactory(store=store, active=False)
    response = rent(clerk_api, customer=customer.pk, film=film.pk)
    assert response.status_code == 400
    assert errors_of(response) == {
        "customer": [services.CUSTOMER_INACTIVE.format(customer=customer)]
    }
    assert_nothing_written()


def test_a_future_rental_date_is_a_400_on_rental_date(clerk_api, film, customer):
    future = (pricing.now() + timedelta(days=2)).replace(second=0)
    response = rent(
        clerk_api, customer=customer.pk, film=film.pk, rental_date=f"{future:%Y-%m-%dT%H:%M:%S}"
    )
    assert response.status_code == 400
    assert errors_of(response) == {
        "rental_date": [services.RENTAL_DATE_IN_FUTURE.format(date=future)]
    }
    assert_nothing_written()


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (
            {"customer": 999999, "film": "FILM"},
            "customer",
            'Invalid pk "999999" - object does not exist.',
        ),
        (
            {"customer": "CUSTOMER", "film": 999999},
            "film",
            'Invalid pk "999999" - object does not exist.',
        ),
        ({"film": "FILM"}, "customer", "This field is required."),
        ({"customer": "abc", "film": "FILM"}, "customer", "A valid integer is required."),
        ({"customer": 1.5, "film": "FILM"}, "customer", "A valid integer is required."),
        ({"customer": True, "film": "FILM"}, "customer", "A valid integer is required."),
        (
            {"customer": -3, "film": "FILM"},
            "customer",
            "Ensure this value is greater than or equal to 1.",
        ),
        (
            {"customer": 2**64, "film": "FILM"},
            "customer",
            "Ensure this value is less than or equal to 2147483647.",
        ),
        (
            {"customer": "CUSTOMER", "film": 10**30},
            "film",
            "Ensure this value is less than or equal to 2147483647.",
        ),
        ({"customer": "CUSTOMER", "film": "FILM", "rental_date": "yesterday"}, "rental_date", None),
        # Not "now": an empty time is a mistake (only a form's empty box means "none").
        ({"customer": "CUSTOMER", "film": "FILM", "rental_date": ""}, "rental_date", None),
        (
            {"customer": "CUSTOMER", "film": "FILM", "rental_date": "2025-02-30T10:00:00"},
            "rental_date",
            None,
        ),
        (
            {"customer": "CUSTOMER", "film": "FILM", "rental_date": "0999-12-31T10:00:00"},
            "rental_date",
            "Enter a date and time between 1000-01-01 and 9999-12-31.",
        ),
        (
            {"customer": "CUSTOMER", "film": "FILM", "rental_date": "0001-01-01T00:00:00+05:00"},
            "rental_date",
            "Enter a date and time between 1000-01-01 and 9999-12-31.",
        ),
    ],
)
def test_bad_rent_bodies_are_400s_naming_the_field(clerk_api, film, customer, body, field, message):
    body = {
        key: {"CUSTOMER": customer.pk, "FILM": film.pk}.get(value, value)
        if isinstance(value, str)
        else value
        for key, value in body.items()
    }
    response = rent(clerk_api, **body)
    assert response.status_code == 400, response.content
    errors = errors_of(response)
    assert list(errors) == [field]
    if message:
        assert errors[field] == [message]
    assert_nothing_written()


def test_a_form_encoded_body_works_too(clerk_api, film, customer):
    response = clerk_api.post("/api/rentals/", {"customer": customer.pk, "film": film.pk})
    assert response.status_code == 201, response.content


def test_a_login_without_a_staff_row_gets_a_clear_403(film, customer):
    client = client_for(make_role_user(CLERK, username="clerk-without-staff"))
    rental = RentalFactory(customer=customer, inventory=film.inventory.get())
    for url, body in [
        ("/api/rentals/", {"customer": customer.pk, "film": film.pk}),
        (f"/api/rentals/{rental.pk}/return/", {}),
        ("/api/payments/", {"customer": customer.pk, "amount": "1.00"}),
    ]:
        response = client.post(url, body, format="json")
        assert response.status_code == 403, url
        assert detail_of(response) == services.STAFF_NOT_LINKED
    assert_nothing_written(rentals=1)
    assert Rental.objects.get().return_date is None


def test_inactive_staff_is_a_400_on_staff(clerk_api, clerk, film, customer):
    staff = clerk.staff_profile.staff
    staff.active = False
    staff.save()
    response = rent(clerk_api, customer=customer.pk, film=film.pk)
    assert response.status_code == 400
    assert errors_of(response) == {"staff": [services.STAFF_INACTIVE.format(staff=staff)]}
    assert_nothing_written()


# Returning.


@pytest.fixture
def late_rental(film, customer, clerk):
    """Rented on 2025-03-04 10:15 for 3 days."""
    return services.rental_create(
        customer=customer, film=film, staff=clerk.staff_profile.staff, rental_date=BACKDATED
    )


def test_returning_late_owes_the_fee_and_records_no_payment(clerk_api, late_rental):
    response = clerk_api.post(
        f"/api/rentals/{late_rental.pk}/return/",
        {"return_date": "2025-03-09T09:00:00"},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["days_kept"], body["days_late"], body["late_fee"]) == (5, 2, "2.00")
    assert body["payments"] == []  # none unless one is asked for
    assert body["rental"]["status"] == "returned"
    assert body["rental"]["return_date"] == "2025-03-09T09:00:00"
    assert [p["amount"] for p in body["rental"]["payments"]] == ["2.99"]  # the rate only
    assert Rental.objects.get().return_date == datetime(2025, 3, 9, 9, 0)
    assert Payment.objects.count() == 1


def test_returning_on_time_without_a_date_charges_nothing(clerk_api, film, customer, clerk):
    rental = services.rental_create(customer=customer, film=film, staff=clerk.staff_profile.staff)
    response = clerk_api.post(f"/api/rentals/{rental.pk}/return/")
    assert response.status_code == 200, response.content
    assert response.json()["late_fee"] == "0.00"
    assert response.json()["payments"] == []
    assert Rental.objects.get().return_date is not None


def test_returning_twice_is_a_400_on_rental(clerk_api, late_rental):
    url = f"/api/rentals/{late_rental.pk}/return/"
    assert clerk_api.post(url, {"return_date": "2025-03-05T09:00:00"}).status_code == 200
    response = clerk_api.post(url, {"return_date": "2025-03-06T09:00:00"})
    assert response.status_code == 400
    assert errors_of(response) == {
        "rental": [
            services.ALREADY_RETURNED.format(
                rental_id=late_rental.pk, date=datetime(2025, 3, 5, 9, 0)
            )
        ]
    }
    assert Payment.objects.count() == 1


@pytest.mark.parametrize(
    ("return_date", "message"),
    [
        ("2025-03-01T09:00:00", services.RETURN_BEFORE_RENTAL.format(date=BACKDATED)),
        ("2999-01-01T00:00:00", services.RETURN_DATE_IN_FUTURE.format(date=datetime(2999, 1, 1))),
        ("2025-13-01", None),
    ],
)
def test_bad_return_dates_are_400s_on_return_date(clerk_api, late_rental, return_date, message):
    response = clerk_api.post(
        f"/api/rentals/{late_rental.pk}/return/", {"return_date": return_date}, format="json"
    )
    assert response.status_code == 400
    assert list(errors_of(response)) == ["return_date"]
    if message:
        assert errors_of(response)["return_date"] == [message]
    assert Rental.objects.get().return_date is None
    assert Payment.objects.count() == 1


@pytest.mark.parametrize("rental_id", ["999999", "9999999999", "99999999999999999999999"])
def test_returning_an_unknown_rental_is_a_404(clerk_api, rental_id):
    assert clerk_api.post(f"/api/rentals/{rental_id}/return/").status_code == 404


def test_returning_needs_the_change_permission(late_rental, customer):
    from django.contrib.auth.models import Permission

    user = make_role_user(CLERK, store=customer.store, username="clerk-no-change")
    user.groups.clear()
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_rental", "add_rental"])
    )
    response = client_for(user).post(f"/api/rentals/{late_rental.pk}/return/")
    assert response.status_code == 403
    assert Rental.objects.get().return_date is None


# Payments.


def test_paying_on_account_and_for_a_rental(clerk_api, clerk, late_rental, customer):
    response = clerk_api.post(
        "/api/payments/", {"customer": customer.pk, "amount": "5.50"}, format="json"
    )
    assert response.status_code == 201, response.content
    payment = Payment.objects.get(amount=Decimal("5.50"))
    assert response.json() == {
        "id": payment.pk,
        "customer": customer.pk,
        "staff": clerk.staff_profile.staff.pk,
        "rental": None,
        "amount": "5.50",
        "payment_date": f"{payment.payment_date:%Y-%m-%dT%H:%M:%S}",
    }
    response = clerk_api.post(
        "/api/payments/",
        {"customer": customer.pk, "amount": "1.00", "rental": late_rental.pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["rental"] == late_rental.pk


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("-1.00", services.PAYMENT_AMOUNT_RANGE.format(amount=Decimal("-1.00"))),
        ("0", services.PAYMENT_AMOUNT_RANGE.format(amount=Decimal("0"))),
        ("1000.00", services.PAYMENT_AMOUNT_RANGE.format(amount=Decimal("1000.00"))),
        ("1.234", services.PAYMENT_AMOUNT_RANGE.format(amount=Decimal("1.234"))),
        ("ten", "A valid number is required."),
        ("NaN", "A valid number is required."),
        ("1e400", None),
    ],
)
def test_bad_amounts_are_400s_on_amount(clerk_api, customer, amount, message):
    response = clerk_api.post(
        "/api/payments/", {"customer": customer.pk, "amount": amount}, format="json"
    )
    assert response.status_code == 400, response.content
    assert list(errors_of(response)) == ["amount"]
    if message:
        assert errors_of(response)["amount"] == [message]
    assert_nothing_written()


def test_paying_for_another_customers_rental_is_a_400_on_rental(clerk_api, late_rental, store):
    other = CustomerFactory(store=store)
    response = clerk_api.post(
        "/api/payments/",
        {"customer": other.pk, "amount": "1.00", "rental": late_rental.pk},
        format="json",
    )
    assert response.status_code == 400
    assert errors_of(response) == {
        "rental": [
            services.PAYMENT_RENTAL_OF_OTHER_CUSTOMER.format(
                rental_id=late_rental.pk, customer=other
            )
        ]
    }
    assert Payment.objects.count() == 1


def test_paying_for_an_unknown_customer_is_a_400(clerk_api):
    response = clerk_api.post("/api/payments/", {"customer": 424242, "amount": "1.00"})
    assert response.status_code == 400
    assert list(errors_of(response)) == ["customer"]
    assert_nothing_written()
