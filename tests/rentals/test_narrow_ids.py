"""Narrow ids (MySQL's own DDL: payment_id SMALLINT UNSIGNED) run out with a clear refusal.

On SQLite the column types are those of our migrations (INT), so the tests
make ``rentals.limits`` see the official narrow types; the real thing runs
on MariaDB in tests/rentals/test_existing_database.py.
"""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from rentals import limits, services
from rentals.models import Payment, Rental
from tests.factories import CustomerFactory, FilmFactory, InventoryFactory, PaymentFactory
from tests.problems import errors_of
from tests.rentals.api.conftest import client_for

pytestmark = pytest.mark.django_db

FULL = 65_535


@pytest.fixture
def official_ids(monkeypatch):
    types = {("payment", "payment_id"): "smallint unsigned", ("rental", "rental_id"): "int"}
    monkeypatch.setattr(limits, "column_types", lambda using="default": types)


@pytest.fixture
def film(store):
    film = FilmFactory(title="ACADEMY DINOSAUR", rental_rate=Decimal("2.99"))
    InventoryFactory(film=film, store=store)
    return film


@pytest.fixture
def customer(store):
    return CustomerFactory(store=store)


def test_renting_when_payment_ids_ran_out_is_refused_before_writing(
    official_ids, clerk, film, customer
):
    PaymentFactory(payment_id=FULL, customer=customer, amount=Decimal("1.00"))
    rentals = Rental.objects.count()
    with pytest.raises(ValidationError) as error:
        services.rental_create(customer=customer, film=film, staff=clerk.staff_profile.staff)
    assert error.value.messages == [
        limits.IDS_EXHAUSTED.format(
            what="payment", table="payment", column="payment_id", type="SMALLINT UNSIGNED",
            highest=FULL,
        )
    ]  # fmt: skip
    assert "python manage.py widen_ids" in error.value.messages[0]
    assert Rental.objects.count() == rentals and Payment.objects.count() == 1


def test_one_id_left_still_rents(official_ids, clerk, film, customer):
    PaymentFactory(payment_id=FULL - 1, customer=customer, amount=Decimal("1.00"))
    rental = services.rental_create(customer=customer, film=film, staff=clerk.staff_profile.staff)
    # FULL on SQLite; MySQL's counter may be past it (ids of rolled-back inserts
    # are not handed out again), where this test's types are only pretended.
    assert rental.payments.get().pk >= FULL


def test_the_api_answers_400_with_the_reason(official_ids, clerk, film, customer):
    PaymentFactory(payment_id=FULL, customer=customer, amount=Decimal("1.00"))
    response = client_for(clerk).post(
        "/api/rentals/", {"customer": customer.pk, "film": film.pk}, format="json"
    )
    assert response.status_code == 400
    assert "widen_ids" in errors_of(response)["non_field_errors"][0]


def test_the_desk_shows_the_reason(official_ids, client, clerk, film, customer):
    PaymentFactory(payment_id=FULL, customer=customer, amount=Decimal("1.00"))
    rentals = Rental.objects.count()
    client.force_login(clerk)
    response = client.post("/desk/rent/", {"customer": str(customer.pk), "film": str(film.pk)})
    assert response.status_code == 400  # the form again, with the refusal on it
    assert "No new payment can be recorded" in response.content.decode()
    assert Rental.objects.count() == rentals


def test_our_own_int_ids_cost_no_query(django_assert_num_queries):
    limits.column_types()  # MySQL: the column types, read once a minute
    with django_assert_num_queries(0):
        limits.next_id_check(Payment, what="payment")


def test_the_admin_add_form_says_the_ids_ran_out(monkeypatch, admin_client, store):
    from tests.factories import ActorFactory

    ActorFactory(actor_id=FULL)
    types = {("actor", "actor_id"): "smallint unsigned"}
    monkeypatch.setattr(limits, "column_types", lambda using="default": types)
    response = admin_client.post(
        "/admin/rentals/actor/add/", {"first_name": "NEW", "last_name": "ACTOR"}
    )
    assert response.status_code == 200  # the form again
    assert "No new actor can be recorded" in response.content.decode()
