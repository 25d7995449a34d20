"""Idempotency-Key: a retried POST replays its first answer and writes nothing twice."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from lake.models import PipelineRun
from rentals import services
from rentals.models import Payment, Rental
from sakila_site.models import IdempotentRequest
from tests.problems import errors_of, problem_of
from tests.rentals.api.conftest import BACKDATED, client_for
from tests.rentals.test_concurrency import race

pytestmark = pytest.mark.django_db

KEY = {"HTTP_IDEMPOTENCY_KEY": "4d1c6a1e-0f7e-4a8e-9d1a-6f3f2b7c9e10"}


@pytest.fixture
def late_rental(film, customer, clerk):
    return services.rental_create(
        customer=customer, film=film, staff=clerk.staff_profile.staff, rental_date=BACKDATED
    )


def pay(client: APIClient, customer, amount: str = "5.00", **headers):
    body = {"customer": customer.pk, "amount": amount}
    return client.post("/api/payments/", body, **headers)


def test_a_payment_sent_twice_with_one_key_is_written_once(clerk_api, late_rental, customer):
    first = pay(clerk_api, customer, **KEY)
    again = pay(clerk_api, customer, **KEY)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert first["Location"].endswith(f"/api/v1/payments/{first.json()['id']}/")
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert Payment.objects.filter(amount=Decimal("5.00")).count() == 1
    # Without a key, sending again pays again, as it always did.
    assert pay(clerk_api, customer, amount="1.00").status_code == 201
    assert pay(clerk_api, customer, amount="1.00").status_code == 201
    assert Payment.objects.filter(amount=Decimal("1.00")).count() == 2


def test_the_same_key_with_another_body_is_a_422_and_writes_nothing(
    clerk_api, late_rental, customer
):
    assert pay(clerk_api, customer, **KEY).status_code == 201
    response = pay(clerk_api, customer, amount="6.00", **KEY)

    assert response.status_code == 422
    assert problem_of(response)["code"] == "idempotency_key_reused"
    assert not Payment.objects.filter(amount=Decimal("6.00")).exists()
    # ... and on another operation.
    response = clerk_api.post(f"/api/rentals/{late_rental.pk}/return/", {}, **KEY)
    assert response.status_code == 422
    assert Rental.objects.get().return_date is None


def test_a_refused_request_keeps_no_key(clerk_api, late_rental, customer):
    refused = pay(clerk_api, customer, amount="50.00", **KEY)  # more than owed, unconfirmed
    assert refused.status_code == 400
    assert not IdempotentRequest.objects.exists()
    # Corrected and sent again with the same key: it runs.
    response = clerk_api.post(
        "/api/payments/",
        {"customer": customer.pk, "amount": "50.00", "confirm_overpayment": True},
        **KEY,
    )
    assert response.status_code == 201
    assert Payment.objects.filter(amount=Decimal("50.00")).count() == 1


def test_keys_belong_to_their_user(clerk_api, late_rental, customer, store):
    other = client_for(make_clerk(store))
    assert pay(clerk_api, customer, **KEY).status_code == 201
    assert pay(other, customer, amount="1.00", **KEY).status_code == 201
    assert Payment.objects.filter(amount__in=[Decimal("5.00"), Decimal("1.00")]).count() == 2


def make_clerk(store):
    from sakila_site.roles import CLERK
    from tests.conftest import make_role_user

    return make_role_user(CLERK, store=store, username="clerk2")


def test_keys_expire(clerk_api, late_rental, customer, settings):
    settings.IDEMPOTENCY_KEY_HOURS = 0
    assert pay(clerk_api, customer, amount="1.00", **KEY).status_code == 201
    response = pay(clerk_api, customer, amount="1.00", **KEY)
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert Payment.objects.filter(amount=Decimal("1.00")).count() == 2


def test_a_rental_and_its_return_retried(clerk_api, film, customer):
    body = {"customer": customer.pk, "film": film.pk}
    first = clerk_api.post("/api/rentals/", body, **KEY)
    again = clerk_api.post("/api/rentals/", body, **KEY)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert Rental.objects.count() == 1 and Payment.objects.count() == 1

    url = f"/api/rentals/{first.json()['id']}/return/"
    key = {"HTTP_IDEMPOTENCY_KEY": "return-1"}
    returned = clerk_api.post(url, {}, **key)
    assert returned.status_code == 200, returned.content
    replayed = clerk_api.post(url, {}, **key)  # without the key: a 400, already returned
    assert replayed.status_code == 200 and replayed.json() == returned.json()
    assert Rental.objects.get().return_date is not None


def test_a_run_start_retried_starts_one_run(manager):
    api = client_for(manager)
    first = api.post("/api/lake/runs/", {"full": False}, **KEY)
    again = api.post("/api/lake/runs/", {"full": False}, **KEY)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert first["Location"].endswith(f"/api/v1/lake/runs/{first.json()['id']}/")
    assert PipelineRun.objects.count() == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "café", "a\tb"])
def test_a_bad_key_is_a_400_naming_the_header(clerk_api, customer, key):
    response = pay(clerk_api, customer, HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert list(errors_of(response)) == ["Idempotency-Key"]
    assert not Payment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_twenty_identical_payments_at_once_write_one(clerk, late_rental, customer):
    def attempt(i: int):
        response = pay(client_for(clerk), customer, **KEY)
        return response.status_code, response.json()["id"]

    answers, refusals = race(attempt)

    assert refusals == []
    assert {status for status, _ in answers} == {201}
    assert len({payment_id for _, payment_id in answers}) == 1
    assert Payment.objects.filter(amount=Decimal("5.00")).count() == 1
