import pytest
from django.urls import reverse

from sakila_site import views
from tests.factories import RentalFactory

pytestmark = pytest.mark.django_db


def test_home_needs_a_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_home_says_what_is_where_and_counts_rows(admin_client):
    RentalFactory()
    response = admin_client.get(reverse("home"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Sakila Lake</h1>" in page
    assert 'href="/admin/"' in page
    rows = dict(response.context["table_counts"])
    assert rows["rental"] == 1 and rows["payment"] == 0
    assert '<td>rental</td><td class="num">1</td>' in page


# --- The site's own error pages (what DEBUG off shows, as make run serves) ---------------------


def test_a_404_is_the_sites_own_page_with_no_url_list(client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "<h1>Page not found</h1>" in page
    assert '<a href="/">Back to the home page</a>' in page
    assert "URLconf" not in page and "lake/" not in page


def test_a_403_says_why_on_the_sites_page(client, clerk, settings):
    settings.DEBUG = False
    client.force_login(clerk)
    response = client.get(reverse("lake:runs"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "<h1>Not allowed</h1>" in page
    assert "The lake control panel is for managers." in page


def test_a_500_is_the_sites_own_page(admin_client, settings, monkeypatch):
    settings.DEBUG = False

    def broken() -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(views.selectors, "table_row_counts", broken)
    admin_client.raise_request_exception = False
    response = admin_client.get(reverse("home"))
    assert response.status_code == 500
    page = response.content.decode()
    assert "<h1>Something went wrong</h1>" in page and "a bug" not in page
    assert '<a href="/">Back to the home page</a>' in page


def test_a_host_the_site_does_not_serve_gets_the_sites_400_page(client, settings):
    settings.DEBUG = False
    response = client.get("/accounts/login/", headers={"host": "elsewhere.example"})
    assert response.status_code == 400
    assert "<h1>Bad request</h1>" in response.content.decode()
