import pytest
from django.urls import reverse

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
