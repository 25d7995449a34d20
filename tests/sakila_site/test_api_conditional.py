"""ETag and If-None-Match on the API's reads: 304 while nothing changed."""

from decimal import Decimal

import pytest

from rentals import services

pytestmark = pytest.mark.django_db


def test_a_customer_read_again_is_a_304_until_their_account_changes(clerk_api, customer, clerk):
    url = f"/api/v1/customers/{customer.pk}/"
    first = clerk_api.get(url)
    assert first.status_code == 200
    etag = first["ETag"]
    assert first["Cache-Control"] == "private, no-cache"

    again = clerk_api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag

    services.payment_create(
        customer=customer,
        staff=clerk.staff_profile.staff,
        amount=Decimal("2.00"),
        confirm_overpayment=True,
    )
    changed = clerk_api.get(url, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200 and changed["ETag"] != etag
    assert changed.json()["balance"] == "-2.00"


def test_lists_and_the_alias_carry_etags_too(clerk_api, film):
    listed = clerk_api.get("/api/films/")
    assert clerk_api.get("/api/films/", HTTP_IF_NONE_MATCH=listed["ETag"]).status_code == 304
    # A write is never answered from an ETag.
    response = clerk_api.post("/api/v1/payments/", {}, HTTP_IF_NONE_MATCH=listed["ETag"])
    assert response.status_code == 400
