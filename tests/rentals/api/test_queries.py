"""Every list costs a fixed number of queries, whatever the number of rows on its page.

Each request here authenticates by token, as a REST client does: one query
for the token and user, two for the user's permissions, then the list's own.
"""

from collections.abc import Callable

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.factories import (
    CategoryFactory,
    CustomerFactory,
    FilmFactory,
    InventoryFactory,
    PaymentFactory,
    RentalFactory,
    StoreFactory,
)

pytestmark = pytest.mark.django_db


def films(count: int, store) -> None:
    for _ in range(count):
        film = FilmFactory()
        film.categories.add(CategoryFactory())
        InventoryFactory(film=film, store=store)
        RentalFactory(inventory=InventoryFactory(film=film, store=store), return_date=None)


def customers(count: int, store) -> None:
    CustomerFactory.create_batch(count, store=store)


def stores(count: int, store) -> None:
    StoreFactory.create_batch(count)


def inventory(count: int, store) -> None:
    """``count`` copies rented out and as many on the shelf."""
    for copy in InventoryFactory.create_batch(count, store=store):
        RentalFactory(inventory=copy, return_date=None)
        InventoryFactory(film=copy.film, store=store)


def rentals(count: int, store) -> None:
    for _ in range(count):
        PaymentFactory(rental__inventory__store=store)


def payments(count: int, store) -> None:
    PaymentFactory.create_batch(count)


# url: (make rows, queries): token and permissions (3), count, the page's keys,
# its rows (sakila_site.api.PageByKeyPagination; rentals and payments page by
# cursor, with no count), then one query per prefetched relation or per-page
# read (films: categories and availability) and per id filter.
LISTS: dict[str, tuple[Callable, int]] = {
    "/api/films/": (films, 8),
    "/api/films/?available_at_store={store}": (films, 9),
    "/api/customers/": (customers, 6),
    "/api/customers/?store={store}&active=true&search=customer": (customers, 7),
    "/api/stores/": (stores, 6),
    "/api/inventory/": (inventory, 6),
    "/api/inventory/?store={store}&available=false": (inventory, 7),
    "/api/rentals/": (rentals, 6),
    "/api/rentals/?store={store}&status=open": (rentals, 7),
    "/api/payments/": (payments, 5),
}


@pytest.fixture
def token_api(clerk) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=clerk).key}")
    return client


@pytest.mark.parametrize("url", list(LISTS))
def test_a_list_costs_the_same_queries_for_3_and_40_rows(
    token_api, store, url, django_assert_max_num_queries
):
    make_rows, queries = LISTS[url]
    url = url.format(store=store.pk)
    counts = []
    for rows, total in ((3, 3), (37, 40)):
        make_rows(rows, store)
        with django_assert_max_num_queries(queries) as captured:
            response = token_api.get(url)
        assert response.status_code == 200, response.content
        assert len(response.json()["results"]) >= total
        counts.append(len(captured))
    assert counts[0] == counts[1] == queries
