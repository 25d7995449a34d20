"""Clerks racing for the same copy: exactly one wins, on SQLite and on MariaDB."""

import threading
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from rentals import pricing, services
from rentals.models import Payment, Rental
from tests.factories import CustomerFactory, FilmFactory, InventoryFactory, StaffFactory

pytestmark = pytest.mark.django_db(transaction=True)

CLERKS = 20


def race(attempt: Callable[[int], object], threads: int = CLERKS) -> tuple[list, list[str]]:
    """Run ``attempt(i)`` in ``threads`` threads released at the same moment."""
    start = threading.Barrier(threads)
    results: list = []
    refusals: list[str] = []
    crashes: list[BaseException] = []

    def run(i: int) -> None:
        try:
            start.wait()
            results.append(attempt(i))
        except ValidationError as error:
            refusals.extend(error.messages)
        except BaseException as error:  # reported below, never swallowed
            crashes.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not crashes, crashes
    return results, refusals


def test_twenty_clerks_renting_the_last_copy_make_one_rental(store):
    film = FilmFactory(rental_rate=Decimal("2.99"))
    InventoryFactory(film=film, store=store)
    clerks = [StaffFactory(store=store) for _ in range(CLERKS)]
    customers = [CustomerFactory(store=store) for _ in range(CLERKS)]

    rentals, refusals = race(
        lambda i: services.rental_create(customer=customers[i], film=film, staff=clerks[i])
    )

    assert len(rentals) == 1
    assert refusals == [services.no_free_copy_message(film=film, store=store)] * (CLERKS - 1)
    assert Rental.objects.count() == 1
    assert list(Payment.objects.values_list("amount", flat=True)) == [Decimal("2.99")]


def test_clerks_renting_different_copies_all_succeed(store):
    film = FilmFactory()
    copies = {InventoryFactory(film=film, store=store).pk for _ in range(8)}
    clerk = StaffFactory(store=store)
    customers = [CustomerFactory(store=store) for _ in range(8)]

    rentals, refusals = race(
        lambda i: services.rental_create(customer=customers[i], film=film, staff=clerk), threads=8
    )

    assert refusals == []
    assert {rental.inventory_id for rental in rentals} == copies


def test_a_rental_returned_at_two_counters_at_once_is_returned_once(store):
    film = FilmFactory(rental_duration=3)
    InventoryFactory(film=film, store=store)
    clerk = StaffFactory(store=store)
    rented = pricing.now().replace(year=pricing.now().year - 1)
    rental = services.rental_create(
        customer=CustomerFactory(store=store), film=film, staff=clerk, rental_date=rented
    )

    returns, refusals = race(lambda i: services.rental_return(rental=rental, staff=clerk), 6)

    assert len(returns) == 1 and len(refusals) == 5
    assert all(
        message.startswith(f"Rental {rental.pk} was already returned") for message in refusals
    )
    # The fee is owed once, not charged per counter: no payment was recorded.
    assert returns[0].late_fee == film.replacement_cost
    assert Payment.objects.filter(rental=rental).count() == 1
