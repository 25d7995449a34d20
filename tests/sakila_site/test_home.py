"""Where a login lands, and a home page that shows each role what it may use."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from sakila_site.roles import CLERK
from tests.conftest import make_role_user

pytestmark = pytest.mark.django_db

DESK, REPORTS, LAKE = 'href="/desk/"', 'href="/reports/"', 'href="/lake/"'
ADMIN, API = 'href="/admin/"', 'href="/api/docs/"'


def log_in(client, user, password="pw"):
    user.set_password(password)
    user.save()
    return client.post(reverse("login"), {"username": user.get_username(), "password": password})


def cards(client) -> str:
    """The home page's cards (the header's menu left out)."""
    page = client.get(reverse("home")).content.decode()
    return page[page.index('<section class="cards"') :]


def test_a_clerk_lands_on_the_desk(client, clerk):
    response = log_in(client, clerk)
    assert response.status_code == 302
    assert client.get(response["Location"])["Location"] == reverse("desk:index")


def test_a_manager_and_an_admin_land_on_the_home_page(client, manager, admin_role_user):
    for user in (manager, admin_role_user):
        response = log_in(client, user)
        assert client.get(response["Location"])["Location"] == reverse("home")
        client.logout()


def test_a_clerk_without_a_staff_row_lands_home(client):
    user = make_role_user(CLERK)
    response = log_in(client, user)
    assert client.get(response["Location"])["Location"] == reverse("home")


def test_a_login_goes_where_it_was_sent_first(client, clerk):
    clerk.set_password("pw")
    clerk.save()
    response = client.post(
        f"{reverse('login')}?next=/desk/customers/", {"username": "clerk", "password": "pw"}
    )
    assert response["Location"] == "/desk/customers/"


def test_a_clerks_home_shows_the_desk_not_the_lake(client, clerk):
    client.force_login(clerk)
    page = cards(client)
    assert DESK in page and ADMIN in page and API in page
    assert REPORTS not in page and LAKE not in page
    assert "Rows per table" not in page


def test_a_managers_home_shows_the_desk_the_lake_and_reports(client, manager):
    client.force_login(manager)
    page = cards(client)
    assert all(link in page for link in (DESK, REPORTS, LAKE, ADMIN, API))
    assert "Rows per table" in page


def test_an_admins_home_shows_users_and_roles_in_the_admin(client, admin_role_user):
    client.force_login(admin_role_user)
    page = cards(client)
    assert "users and their roles" in page and LAKE in page


def test_a_login_with_no_role_is_told_so(client):
    client.force_login(get_user_model().objects.create_user("visitor", password="x"))
    page = cards(client)
    assert not any(link in page for link in (DESK, REPORTS, LAKE, ADMIN, API))
    assert "Your login has no role yet" in page
