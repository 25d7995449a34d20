"""Bad query parameters and ids: a 400 naming the parameter, or a 404, never a 500."""

import pytest

from tests.factories import RentalFactory
from tests.problems import detail_of, errors_of
from tests.rentals.api.conftest import client_for

pytestmark = pytest.mark.django_db

HUGE = "9" * 30  # past SQLite's 2**63 (OverflowError) and MySQL's BIGINT


@pytest.mark.parametrize(
    ("url", "params", "field"),
    [
        ("/api/films/", {"category": "abc"}, "category"),
        ("/api/films/", {"category": HUGE}, "category"),
        ("/api/films/", {"category": "-1"}, "category"),
        ("/api/films/", {"rating": "X"}, "rating"),
        ("/api/films/", {"available_at_store": HUGE}, "available_at_store"),
        ("/api/films/", {"available_at_store": "1.5"}, "available_at_store"),
        ("/api/customers/", {"store": "424242"}, "store"),
        ("/api/customers/", {"active": "maybe"}, "active"),
        ("/api/inventory/", {"film": HUGE}, "film"),
        ("/api/inventory/", {"available": "yes"}, "available"),
        ("/api/rentals/", {"customer": HUGE}, "customer"),
        ("/api/rentals/", {"store": "2" * 19}, "store"),
        ("/api/rentals/", {"status": "lost"}, "status"),
        ("/api/rentals/", {"rental_date_from": "last week"}, "rental_date_from"),
        ("/api/rentals/", {"rental_date_to": "2005-02-30"}, "rental_date_to"),
        ("/api/rentals/", {"rental_date_to": "0005-01-01T00:00:00"}, "rental_date_to"),
        ("/api/rentals/", {"rental_date_from": "0001-01-01T00:00:00+05:00"}, "rental_date_from"),
        ("/api/payments/", {"rental": HUGE}, "rental"),
        ("/api/payments/", {"payment_date_from": "2005-13-01"}, "payment_date_from"),
    ],
)
def test_bad_filter_values_are_400s_naming_the_parameter(clerk_api, url, params, field):
    response = clerk_api.get(url, params)
    assert response.status_code == 400, response.content
    assert list(errors_of(response)) == [field]


def test_a_time_with_an_offset_filters_in_local_time(clerk_api):
    rental = RentalFactory()  # 2005-06-01 10:00:xx local (UTC in tests)
    params = {"rental_date_from": "2005-06-01T11:00:00+01:00"}
    assert [row["id"] for row in clerk_api.get("/api/rentals/", params).json()["results"]] == [
        rental.pk
    ]


@pytest.mark.parametrize(
    "url",
    [
        "/api/films/424242/",
        "/api/films/9999999999/",  # 10 digits, past INT
        f"/api/films/{HUGE}/",  # the URL does not match
        "/api/films/-1/",
        "/api/films/abc/",
        "/api/customers/0/",
        f"/api/rentals/{HUGE}/",
        f"/api/payments/{HUGE}/",
        f"/api/inventory/{HUGE}/",
        f"/api/stores/{HUGE}/",
    ],
)
def test_unknown_or_malformed_ids_in_the_path_are_404s(clerk_api, url):
    assert clerk_api.get(url).status_code == 404


@pytest.mark.parametrize("page", ["2", HUGE])
def test_pages_past_the_last_are_404s(clerk_api, page):
    RentalFactory()
    response = clerk_api.get("/api/films/", {"page": page})
    assert response.status_code == 404
    assert detail_of(response) == "Invalid page."


@pytest.mark.parametrize("page", ["0", "abc", "-1", "1.5", "²"])
def test_pages_that_are_not_whole_numbers_from_1_are_400s(clerk_api, page):
    response = clerk_api.get("/api/films/", {"page": page})
    assert response.status_code == 400
    assert errors_of(response) == {"page": ["Enter a whole number of at least 1."]}


@pytest.mark.parametrize("url", ["/api/films/", "/api/rentals/", "/api/lake/runs/"])
@pytest.mark.parametrize("size", ["abc", "0", "-5", "501", HUGE, ""])
def test_a_page_size_outside_1_to_500_is_a_400(clerk_api, manager, url, size):
    client = clerk_api if "lake" not in url else client_for(manager)
    response = client.get(url, {"page_size": size})
    assert response.status_code == 400
    assert errors_of(response) == {"page_size": ["Enter a whole number from 1 to 500."]}


@pytest.mark.parametrize("ordering", ["password", "-" * 50, "title,length", "--title", ""])
def test_an_ordering_not_listed_is_a_400_naming_the_choices(clerk_api, ordering):
    response = clerk_api.get("/api/films/", {"ordering": ordering})
    assert response.status_code == 400
    assert errors_of(response) == {
        "ordering": [
            "Order by one of title, -title, release_year, -release_year, length, -length, "
            "rental_rate, -rental_rate, film_id, -film_id."
        ]
    }


@pytest.mark.parametrize("params", [{"search": "%_" * 200}, {"unknown": "ignored"}])
def test_odd_search_values_and_unknown_parameters_are_harmless(clerk_api, params):
    assert clerk_api.get("/api/films/", params).status_code == 200


def test_a_nul_character_in_a_search_is_a_400(clerk_api):
    response = clerk_api.get("/api/customers/", {"search": "mary\x00"})
    assert response.status_code == 400
    assert errors_of(response) == {"search": ["Null characters are not allowed."]}


def test_a_malformed_json_body_is_a_400(clerk_api):
    response = clerk_api.post("/api/rentals/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in detail_of(response)
