"""On a database with the official Sakila triggers, every door shows what was stored.

MySQL's sakila-data.sql installs BEFORE INSERT triggers that set
rental.rental_date and payment.payment_date to NOW(): a backdated rental is
stored with the server's time. The desk, the admin and the API must show
that stored time, not the one the clerk typed.
"""

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from rentals import pricing, services
from rentals.models import Rental
from tests.conftest import only_on_mysql
from tests.factories import CustomerFactory, FilmFactory, InventoryFactory

pytestmark = [only_on_mysql, pytest.mark.django_db(transaction=True)]

BACKDATED = datetime(2025, 3, 4, 10, 15)
# As in sakila-data.sql.
TRIGGERS = {
    "rental_date": "BEFORE INSERT ON rental FOR EACH ROW SET NEW.rental_date = NOW()",
    "payment_date": "BEFORE INSERT ON payment FOR EACH ROW SET NEW.payment_date = NOW()",
}


@pytest.fixture
def sakila_triggers() -> Iterator[None]:
    with connection.cursor() as cursor:
        for name, body in TRIGGERS.items():
            cursor.execute(f"CREATE TRIGGER {name} {body}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for name in TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


@pytest.fixture
def film(store):
    film = FilmFactory(title="TRIGGERED FILM", rental_duration=3)
    InventoryFactory(film=film, store=store)
    return film


@pytest.fixture
def customer(store):
    return CustomerFactory(store=store)


def assert_stored_now(rental: Rental) -> None:
    """The row holds the server's time of insert, not the backdated one."""
    stored = Rental.objects.get(pk=rental.pk)
    assert stored.rental_date != BACKDATED
    assert abs(stored.rental_date - pricing.now()) < timedelta(minutes=5)
    payment = stored.payments.get()
    assert payment.payment_date == stored.rental_date


def test_the_service_returns_what_was_stored(sakila_triggers, clerk, film, customer):
    rental = services.rental_create(
        customer=customer, film=film, staff=clerk.staff_profile.staff, rental_date=BACKDATED
    )
    assert_stored_now(rental)
    assert rental.rental_date == Rental.objects.get(pk=rental.pk).rental_date
    assert rental.payments.get().payment_date == rental.rental_date


def test_the_desk_shows_the_stored_date(sakila_triggers, client, clerk, film, customer):
    client.force_login(clerk)
    response = client.post(
        reverse("desk:rent"),
        {"customer": customer.pk, "film": film.pk, "rental_date": "2025-03-04T10:15"},
        follow=True,
    )
    rental = Rental.objects.get()
    assert_stored_now(rental)
    text = response.content.decode()
    assert f"{rental.rental_date:%Y-%m-%d %H:%M}" in text
    assert "2025-03-04 10:15" not in text


def test_the_api_returns_the_stored_date(sakila_triggers, clerk, film, customer):
    api = APIClient()
    api.force_authenticate(clerk)
    response = api.post(
        "/api/rentals/",
        {"customer": customer.pk, "film": film.pk, "rental_date": "2025-03-04T10:15:00"},
        format="json",
    )
    assert response.status_code == 201, response.content
    rental = Rental.objects.get()
    assert_stored_now(rental)
    assert response.json()["rental_date"] == f"{rental.rental_date:%Y-%m-%dT%H:%M:%S}"
