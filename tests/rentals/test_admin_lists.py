"""The admin's list pages: the rentals list at 1366 px, the Overdue filter, and
queries that do not grow with the rows shown, on every list page."""

import re
from datetime import datetime, timedelta

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from rentals import pricing
from rentals.models import Rental
from tests.factories import FilmFactory, InventoryFactory, RentalFactory
from tests.rentals.test_admin import make_rentals, url

pytestmark = pytest.mark.django_db


def rental_of(store, *, duration: int, rented: datetime, returned: datetime | None = None):
    copy = InventoryFactory(film=FilmFactory(rental_duration=duration), store=store)
    return RentalFactory(inventory=copy, rental_date=rented, return_date=returned)


def test_the_overdue_filter_lists_rentals_out_past_their_due_day(admin_client, store):
    today = pricing.now().replace(hour=0, minute=0, second=0)
    # Due yesterday (3 days from 4 days ago at 23:59): one day late today.
    late = rental_of(store, duration=3, rented=today - timedelta(days=4) + timedelta(hours=23))
    long_late = rental_of(store, duration=7, rented=today - timedelta(days=30))
    # Due today: not late until tomorrow (calendar days, as the late fee counts).
    due_today = rental_of(store, duration=3, rented=today - timedelta(days=3))
    returned = rental_of(
        store, duration=3, rented=today - timedelta(days=30), returned=today - timedelta(days=1)
    )
    within = rental_of(store, duration=7, rented=today - timedelta(days=2))

    response = admin_client.get(url("rental", "changelist"), {"status": "overdue"})
    shown = {rental.pk for rental in response.context["cl"].result_list}
    assert shown == {late.pk, long_late.pk}
    for rental in (late, long_late, due_today, returned, within):
        fee_due = pricing.days_late(
            rental_date=rental.rental_date,
            rental_duration=rental.inventory.film.rental_duration,
            until=pricing.now(),
        )
        assert (rental.pk in shown) == (rental.return_date is None and fee_due > 0)
    page = response.content.decode()
    assert "Overdue (out past due)" in page
    assert 'class="overdue">overdue 1 d</strong>' in page
    assert Rental.objects.overdue().count() == 2


def test_the_rentals_list_fits_1366_px(admin_client, store):
    rental = rental_of(store, duration=3, rented=datetime(2005, 5, 24, 22, 53, 30))
    response = admin_client.get(url("rental", "changelist"))
    page = response.content.decode()
    headers = [h.lower() for h in response.context["cl"].model_admin.list_display]
    assert headers == ["rental_id", "rented", "customer", "film", "copy_at", "due", "returned"]
    assert '<td class="field-rented">2005-05-24 22:53</td>' in page
    assert f"{rental.inventory_id} · store {store.pk}" in page
    assert "css/admin-lists.css" in page
    assert 'id="nav-sidebar"' not in page  # the list gets the width


def test_the_rentals_list_sorts_by_rental_date_through_its_index(admin_client, store):
    make_rentals(3, store)
    cl = admin_client.get(url("rental", "changelist"), {"o": "2"}).context["cl"]
    assert cl.queryset.query.order_by == ("rental_date", "inventory_id", "customer_id")


def test_the_overdue_filter_uses_a_bounded_number_of_queries(
    admin_client, store, django_assert_max_num_queries
):
    make_rentals(30, store)
    with django_assert_max_num_queries(6):  # the list's 5, and the durations in use
        admin_client.get(url("rental", "changelist"), {"status": "overdue"})


def list_urls() -> list[str]:
    return [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    ]


def test_no_admin_list_runs_more_queries_for_more_rows(admin_client, store):
    """Every list page of the admin: as many queries for 3 rentals as for 25
    (no query per row), which is what keeps them fast at scale."""

    def queries(path: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(path).status_code == 200, path
        return len(captured)

    make_rentals(3, store)
    few = {path: queries(path) for path in list_urls()}
    make_rentals(22, store)
    many = {path: queries(path) for path in list_urls()}
    assert many == few


def test_the_customer_list_links_each_row_once(admin_client, store):
    make_rentals(3, store)
    response = admin_client.get(url("customer", "changelist"), {"active__exact": "1"})
    page = response.content.decode()
    rows = page.count('class="action-select"')
    assert rows == 3
    links = re.findall(r'<a href="/admin/rentals/customer/\d+/change/\?[^"]*"', page)
    assert len(links) == rows  # one link a row, filters kept in it
