"""Lists and details of the API, with their filters, search and ordering."""

from datetime import datetime
from decimal import Decimal
from itertools import chain

import pytest

from rentals import services
from rentals.models import Rental
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


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


# Films.


def test_a_film_shows_its_catalogue_entry_and_free_copies_per_store(clerk_api, store):
    other_store = StoreFactory()
    category = CategoryFactory(name="Animation")
    film = FilmFactory(title="ALIEN CENTER", special_features=["Trailers", "Commentaries"])
    film.categories.add(category)
    copies = [InventoryFactory(film=film, store=store) for _ in range(3)]
    InventoryFactory(film=film, store=other_store)
    RentalFactory(inventory=copies[0], return_date=None)
    RentalFactory(inventory=copies[1], return_date=datetime(2005, 6, 3))

    response = clerk_api.get(f"/api/films/{film.pk}/")

    assert response.status_code == 200
    assert response.json() == {
        "id": film.pk,
        "title": "ALIEN CENTER",
        "description": film.description,
        "release_year": 2006,
        "language": str(film.language),
        "rating": "PG",
        "length": 90,
        "rental_duration": 3,
        "rental_rate": "2.99",
        "replacement_cost": "19.99",
        "special_features": ["Trailers", "Commentaries"],
        "categories": [{"id": category.pk, "name": "Animation"}],
        "availability": [
            {"store": store.pk, "copies": 3, "free": 2},
            {"store": other_store.pk, "copies": 1, "free": 1},
        ],
    }
    assert (
        clerk_api.get("/api/films/").json()["results"][0]["availability"]
        == (response.json()["availability"])
    )


def test_films_filter_by_category_rating_title_and_free_copy(clerk_api, store):
    drama, comedy = CategoryFactory(name="Drama"), CategoryFactory(name="Comedy")
    academy = FilmFactory(title="ACADEMY DINOSAUR", rating="PG")
    ace = FilmFactory(title="ACE GOLDFINGER", rating="G")
    zorro = FilmFactory(title="ZORRO ARK", rating="NC-17")
    academy.categories.add(drama)
    ace.categories.add(comedy)
    zorro.categories.add(drama)
    InventoryFactory(film=academy, store=store)
    rented = InventoryFactory(film=ace, store=store)
    RentalFactory(inventory=rented, return_date=None)
    InventoryFactory(film=zorro)  # elsewhere

    assert ids(clerk_api.get("/api/films/")) == [academy.pk, ace.pk, zorro.pk]
    assert ids(clerk_api.get("/api/films/", {"category": drama.pk})) == [academy.pk, zorro.pk]
    assert ids(clerk_api.get("/api/films/", {"rating": "G"})) == [ace.pk]
    assert ids(clerk_api.get("/api/films/", {"search": "ace"})) == [ace.pk]
    assert ids(clerk_api.get("/api/films/", {"available_at_store": store.pk})) == [academy.pk]
    assert (
        ids(clerk_api.get("/api/films/", {"available_at_store": store.pk, "category": comedy.pk}))
        == []
    )
    assert ids(clerk_api.get("/api/films/", {"ordering": "-title"})) == [
        zorro.pk,
        ace.pk,
        academy.pk,
    ]


# Customers.


def test_a_customer_shows_balance_and_open_rentals(clerk_api, store, clerk):
    customer = CustomerFactory(store=store, first_name="MARY", last_name="SMITH")
    film = FilmFactory(rental_rate=Decimal("2.99"), rental_duration=3)
    InventoryFactory(film=film, store=store)
    services.rental_create(customer=customer, film=film, staff=clerk.staff_profile.staff)
    # A returned rental nobody paid for: its rate is owed.
    RentalFactory(
        customer=customer,
        inventory=InventoryFactory(film=film, store=store),
        return_date=datetime(2005, 6, 2, 10, 0),
    )

    response = clerk_api.get(f"/api/customers/{customer.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert body["first_name"] == "MARY" and body["last_name"] == "SMITH"
    assert body["city"] == customer.address.city.city
    assert body["country"] == customer.address.city.country.country
    assert body["open_rentals"] == 1
    assert body["balance"] == "2.99"
    assert "balance" not in clerk_api.get("/api/customers/").json()["results"][0]


def test_customers_filter_by_store_active_email_and_search(clerk_api, store):
    other_store = StoreFactory()
    mary = CustomerFactory(store=store, first_name="MARY", last_name="SMITH", email="mary@x.org")
    linda = CustomerFactory(store=other_store, first_name="LINDA", last_name="WILLIAMS")
    gone = CustomerFactory(store=store, first_name="BARBARA", last_name="JONES", active=False)

    assert ids(clerk_api.get("/api/customers/")) == [gone.pk, mary.pk, linda.pk]
    assert ids(clerk_api.get("/api/customers/", {"store": store.pk})) == [gone.pk, mary.pk]
    assert ids(clerk_api.get("/api/customers/", {"active": "false"})) == [gone.pk]
    assert ids(clerk_api.get("/api/customers/", {"active": "true"})) == [mary.pk, linda.pk]
    assert ids(clerk_api.get("/api/customers/", {"email": "MARY@X.ORG"})) == [mary.pk]
    assert ids(clerk_api.get("/api/customers/", {"search": "willi"})) == [linda.pk]
    assert ids(clerk_api.get("/api/customers/", {"search": "mary@"})) == [mary.pk]


# Stores and inventory.


def test_stores_show_address_and_manager(clerk_api, store):
    response = clerk_api.get("/api/stores/")
    assert response.status_code == 200
    [row] = response.json()["results"]
    address = store.address
    assert row == {
        "id": store.pk,
        "address": address.address,
        "district": address.district,
        "postal_code": address.postal_code,
        "city": address.city.city,
        "country": address.city.country.country,
        "phone": address.phone,
        "manager_staff": store.manager_staff_id,
        "manager": str(store.manager_staff),
    }
    assert clerk_api.get(f"/api/stores/{store.pk}/").json() == row


def test_inventory_filters_by_film_store_and_availability(clerk_api, store):
    film, other_film = FilmFactory(title="AIRPORT POLLOCK"), FilmFactory()
    on_shelf = InventoryFactory(film=film, store=store)
    out = InventoryFactory(film=film, store=store)
    elsewhere = InventoryFactory(film=film)
    other = InventoryFactory(film=other_film, store=store)
    RentalFactory(inventory=out, return_date=None)

    assert ids(clerk_api.get("/api/inventory/", {"film": film.pk})) == [
        on_shelf.pk,
        out.pk,
        elsewhere.pk,
    ]
    assert ids(clerk_api.get("/api/inventory/", {"store": store.pk})) == [
        on_shelf.pk,
        out.pk,
        other.pk,
    ]
    assert ids(clerk_api.get("/api/inventory/", {"available": "false"})) == [out.pk]
    assert ids(
        clerk_api.get("/api/inventory/", {"available": "true", "film": film.pk, "store": store.pk})
    ) == [on_shelf.pk]
    assert clerk_api.get(f"/api/inventory/{out.pk}/").json() == {
        "id": out.pk,
        "film": film.pk,
        "film_title": "AIRPORT POLLOCK",
        "store": store.pk,
        "available": False,
    }


# Rentals and payments.


def test_rentals_filter_by_customer_store_status_and_dates(clerk_api, store):
    other_store = StoreFactory()
    mary = CustomerFactory(store=store)
    june = RentalFactory(
        customer=mary,
        inventory=InventoryFactory(store=store),
        rental_date=datetime(2005, 6, 15, 10, 0),
        return_date=datetime(2005, 6, 17),
    )
    july = RentalFactory(
        inventory=InventoryFactory(store=other_store), rental_date=datetime(2005, 7, 1, 9, 30)
    )
    august = RentalFactory(
        customer=mary,
        inventory=InventoryFactory(store=other_store),
        rental_date=datetime(2005, 8, 2, 18, 0),
    )

    assert ids(clerk_api.get("/api/rentals/")) == [august.pk, july.pk, june.pk]
    assert ids(clerk_api.get("/api/rentals/", {"customer": mary.pk})) == [august.pk, june.pk]
    assert ids(clerk_api.get("/api/rentals/", {"store": other_store.pk})) == [august.pk, july.pk]
    assert ids(clerk_api.get("/api/rentals/", {"status": "open"})) == [august.pk, july.pk]
    assert ids(clerk_api.get("/api/rentals/", {"status": "returned"})) == [june.pk]
    in_range = {"rental_date_from": "2005-06-15T10:00:00", "rental_date_to": "2005-07-01"}
    assert ids(clerk_api.get("/api/rentals/", in_range)) == [june.pk]
    assert ids(clerk_api.get("/api/rentals/", {"rental_date_from": "2005-07-01"})) == [
        august.pk,
        july.pk,
    ]
    assert ids(clerk_api.get("/api/rentals/", {"ordering": "rental_date"})) == [
        june.pk,
        july.pk,
        august.pk,
    ]
    assert (
        ids(
            clerk_api.get(
                "/api/rentals/", {"customer": mary.pk, "store": store.pk, "status": "open"}
            )
        )
        == []
    )

    detail = clerk_api.get(f"/api/rentals/{june.pk}/").json()
    assert detail["status"] == "returned"
    assert detail["store"] == store.pk
    assert detail["due_date"] == "2005-06-18T10:00:00"


def test_payments_filter_by_customer_rental_and_dates(clerk_api):
    first = PaymentFactory(payment_date=datetime(2005, 6, 1, 10, 0), amount=Decimal("0.99"))
    second = PaymentFactory(payment_date=datetime(2005, 6, 2, 10, 0))
    on_account = PaymentFactory(customer=first.customer, rental=None)

    assert ids(clerk_api.get("/api/payments/")) == [on_account.pk, second.pk, first.pk]
    assert ids(clerk_api.get("/api/payments/", {"customer": first.customer_id})) == [
        on_account.pk,
        first.pk,
    ]
    assert ids(clerk_api.get("/api/payments/", {"rental": second.rental_id})) == [second.pk]
    assert ids(
        clerk_api.get(
            "/api/payments/",
            {"payment_date_from": "2005-06-02T00:00:00", "payment_date_to": "2005-06-02T23:59"},
        )
    ) == [second.pk]
    assert clerk_api.get(f"/api/payments/{first.pk}/").json() == {
        "id": first.pk,
        "customer": first.customer_id,
        "staff": first.staff_id,
        "rental": first.rental_id,
        "amount": "0.99",
        "payment_date": "2005-06-01T10:00:00",
    }


def test_pages_are_numbered_and_sized(clerk_api):
    films = sorted(FilmFactory.create_batch(5), key=lambda film: film.title)
    page = clerk_api.get("/api/films/", {"page_size": 2, "page": 2}).json()
    assert page["count"] == 5
    assert [row["id"] for row in page["results"]] == [films[2].pk, films[3].pk]
    assert page["next"].endswith("page=3&page_size=2")


def follow(client, url: str, params: dict | None = None) -> list[list[int]]:
    """The ids of every page, following ``next`` from ``url``."""
    pages = []
    response = client.get(url, params)
    while True:
        pages.append(ids(response))
        following = response.json()["next"]
        if following is None:
            return pages
        response = client.get(following)


def flat(pages: list[list[int]]) -> list[int]:
    return list(chain.from_iterable(pages))


def test_rental_pages_stay_put_while_rentals_arrive(clerk_api):
    older = [RentalFactory(rental_date=datetime(2005, 6, 1, 10, 0, s)) for s in range(5)]
    first = clerk_api.get("/api/rentals/", {"page_size": 2}).json()
    assert set(first) == {"next", "previous", "results"}  # a cursor, no count
    assert [row["id"] for row in first["results"]] == [older[4].pk, older[3].pk]
    # Three clerks rent meanwhile: numbered pages would shift by three.
    for s in range(3):
        RentalFactory(rental_date=datetime(2005, 6, 2, 10, 0, s))
    rest = follow(clerk_api, first["next"])
    assert rest == [[older[2].pk, older[1].pk], [older[0].pk]]
    # Ordered by id, ascending, the same way.
    assert flat(
        follow(clerk_api, "/api/rentals/", {"page_size": 3, "ordering": "rental_id"})
    ) == sorted(rental.pk for rental in older + list(Rental.objects.filter(rental_date__day=2)))


def test_rentals_at_the_same_second_are_paged_without_loss(clerk_api):
    same = [RentalFactory(rental_date=datetime(2005, 6, 1, 10, 0, 0)) for _ in range(7)]
    pages = follow(clerk_api, "/api/rentals/", {"page_size": 3})
    assert sorted(flat(pages)) == sorted(rental.pk for rental in same)
    assert [len(page) for page in pages] == [3, 3, 1]


def test_payment_pages_stay_put_while_payments_arrive(clerk_api):
    older = PaymentFactory.create_batch(4)
    first = clerk_api.get("/api/payments/", {"page_size": 3}).json()
    PaymentFactory.create_batch(2)
    assert [row["id"] for row in first["results"]] + flat(follow(clerk_api, first["next"])) == [
        payment.pk for payment in reversed(older)
    ]
