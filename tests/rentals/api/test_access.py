"""Who may call the API: a login or a token on every endpoint, then the role's permissions."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from rentals.models import Rental
from tests.factories import RentalFactory
from tests.problems import detail_of, errors_of
from tests.rentals.api.conftest import client_for

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/films/",
    "/api/customers/",
    "/api/stores/",
    "/api/inventory/",
    "/api/rentals/",
    "/api/payments/",
]


@pytest.fixture
def rental(store):
    return RentalFactory(inventory__store=store, customer__store=store)


def every_endpoint(rental) -> list[tuple[str, str]]:
    details = [
        f"/api/films/{rental.inventory.film_id}/",
        f"/api/customers/{rental.customer_id}/",
        f"/api/stores/{rental.inventory.store_id}/",
        f"/api/inventory/{rental.inventory_id}/",
        f"/api/rentals/{rental.pk}/",
    ]
    return [
        *[("get", url) for url in ["/api/", *LISTS, *details, "/api/schema/", "/api/docs/"]],
        ("post", "/api/rentals/"),
        ("post", f"/api/rentals/{rental.pk}/return/"),
        ("post", "/api/payments/"),
    ]


def test_anonymous_callers_get_401_everywhere(api, rental):
    for method, url in every_endpoint(rental):
        if url == "/api/docs/":
            continue  # a page for people: the login page first (below)
        response = getattr(api, method)(url)
        assert response.status_code == 401, (method, url)
        assert response["WWW-Authenticate"] == "Token"


def test_the_docs_ask_anonymous_users_to_log_in(api):
    response = api.get("/api/docs/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/api/docs/"


def test_a_login_without_a_role_gets_403_everywhere(rental):
    nobody = client_for(get_user_model().objects.create_user("nobody", password="pw"))
    for method, url in every_endpoint(rental):
        if url in ("/api/", "/api/schema/", "/api/docs/"):
            continue  # any login may read what the API offers
        response = getattr(nobody, method)(url)
        assert response.status_code == 403, (method, url)
    assert Rental.objects.get().return_date is None


@pytest.mark.parametrize("user", ["clerk", "manager", "admin_role_user"])
def test_every_role_reads_every_list_and_rents(request, user, rental, film, customer):
    client = client_for(request.getfixturevalue(user))
    for url in LISTS:
        assert client.get(url).status_code == 200, url
    response = client.post("/api/rentals/", {"customer": customer.pk, "film": film.pk})
    assert response.status_code == 201, response.content
    assert client.post(f"/api/rentals/{rental.pk}/return/").status_code == 200


def test_a_token_from_the_token_endpoint_authenticates(api, clerk, film, customer):
    response = api.post(
        "/api/auth/token/", {"username": "clerk", "password": "pw-for-tests-only"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert token == Token.objects.get(user=clerk).key

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/films/").status_code == 200
    response = client.post("/api/rentals/", {"customer": customer.pk, "film": film.pk})
    assert response.status_code == 201, response.content
    assert Rental.objects.get().staff == clerk.staff_profile.staff


def test_a_wrong_password_or_token_is_refused(api, clerk):
    response = api.post("/api/auth/token/", {"username": "clerk", "password": "nope"})
    assert response.status_code == 400
    assert list(errors_of(response)) == ["non_field_errors"]
    api.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert api.get("/api/films/").status_code == 401


def test_a_session_login_works_too(client, clerk):
    client.force_login(clerk)
    assert client.get("/api/films/").status_code == 200


def test_a_session_post_needs_the_csrf_token(clerk, film, customer):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(clerk)
    response = client.post("/api/rentals/", {"customer": customer.pk, "film": film.pk})
    assert response.status_code == 403
    assert "CSRF" in detail_of(response)
    assert not Rental.objects.exists()


def test_the_catalogue_is_read_only_even_for_admins(admin_role_user, clerk_api, film, rental):
    client = client_for(admin_role_user)
    assert client.post("/api/films/", {"title": "NEW"}).status_code == 405
    assert client.delete(f"/api/films/{film.pk}/").status_code == 405
    assert client.put(f"/api/rentals/{rental.pk}/", {}).status_code == 405
    # A clerk may not add films at all: refused before the method is looked at.
    assert clerk_api.post("/api/films/", {"title": "NEW"}).status_code == 403


def test_the_docs_are_served_offline(client, clerk):
    client.force_login(clerk)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    script = client.get("/api/docs/?script=").content.decode()  # a file: the CSP allows no inline
    assert "/api/schema/" in script
    for text in (page, script):
        assert "cdn." not in text and "unpkg" not in text
        assert "http://" not in text and "https://" not in text


def test_the_schema_is_served_to_a_login(clerk_api):
    response = clerk_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/rentals/{rental_id}/return/" in paths
    assert set(paths["/api/v1/rentals/"]) == {"get", "post"}


def test_the_browsable_api_asks_for_ids_rather_than_listing_rows(clerk_api, rental):
    # A <select> of every rental would be megabytes at production size.
    response = clerk_api.get("/api/payments/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    page = response.content.decode()
    assert '<input type="number" name="rental"' in page
    assert '<input type="number" name="customer"' in page
    assert f'<option value="{rental.pk}"' not in page
    # The form to rent takes a JSON body, the API's only kind.
    page = clerk_api.get("/api/rentals/", HTTP_ACCEPT="text/html").content.decode()
    assert '<option value="application/json"' in page
    assert "multipart/form-data" not in page
    assert f'<option value="{rental.customer_id}"' not in page
