"""Throttled logins (django-axes), the Content-Security-Policy, the API docs' login."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from sakila_site.security import LOCKED_OUT
from tests.problems import detail_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def limit(settings) -> int:
    settings.AXES_FAILURE_LIMIT = 3
    return 3


def login(client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_wrong_passwords_lock_the_account_from_any_address(client, clerk, limit):
    for attempt in range(limit - 1):
        assert login(client, "clerk", f"wrong{attempt}").status_code == 200  # the form again
    response = login(client, "clerk", "wrong-last")
    assert response.status_code == 429
    page = response.content.decode()
    assert "<h1>Too many failed logins</h1>" in page and "15 minutes" in page
    assert response["Retry-After"] == "900"
    # The right password no longer helps, from another address either.
    assert login(client, "clerk", "pw-for-tests-only", address="10.0.0.2").status_code == 429


def test_wrong_passwords_lock_the_address_for_every_account(client, clerk, manager, limit):
    for attempt in range(limit):
        login(client, f"nobody{attempt}", "guess", address="10.0.0.9")
    assert login(client, "manager", "whatever", address="10.0.0.9").status_code == 429
    assert login(client, "manager", "whatever", address="10.0.0.10").status_code == 200


def test_a_good_login_resets_the_count(client, clerk, limit):
    clerk.set_password("right-one")
    clerk.save()
    for _ in range(limit - 1):
        login(client, "clerk", "wrong")
    assert login(client, "clerk", "right-one").status_code == 302
    client.logout()
    for _ in range(limit - 1):
        assert login(client, "clerk", "wrong").status_code == 200


def test_the_token_endpoint_is_throttled_per_account(clerk, limit):
    clerk.set_password("right-one")
    clerk.save()
    api = APIClient()
    url = reverse("api-token")
    for _ in range(limit):
        response = api.post(url, {"username": "clerk", "password": "wrong"}, REMOTE_ADDR="10.1.0.1")
        assert response.status_code == 400
    response = api.post(url, {"username": "clerk", "password": "right-one"}, REMOTE_ADDR="10.1.0.2")
    assert response.status_code == 429
    assert detail_of(response) == LOCKED_OUT.format(minutes=15)
    assert response["Retry-After"] == "900"


def test_the_token_endpoint_is_throttled_per_address(clerk, limit):
    clerk.set_password("right-one")
    clerk.save()
    api = APIClient()
    for attempt in range(limit):
        api.post(reverse("api-token"), {"username": f"x{attempt}", "password": "no"})
    response = api.post(reverse("api-token"), {"username": "clerk", "password": "right-one"})
    assert response.status_code == 429
    other = api.post(
        reverse("api-token"), {"username": "clerk", "password": "right-one"}, REMOTE_ADDR="10.2.0.1"
    )
    assert other.status_code == 200 and other.json()["token"]


def test_the_admin_login_counts_too(client, clerk, limit):
    for _ in range(limit):
        client.post("/admin/login/", {"username": "clerk", "password": "wrong"})
    assert login(client, "clerk", "pw-for-tests-only", address="127.0.0.1").status_code == 429


CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


@pytest.mark.parametrize("path", ["/accounts/login/", "/no-such-page/"])
def test_every_page_has_a_content_security_policy(client, path):
    policy = directives(client.get(path))
    assert {name: policy.get(name) for name in CSP} == CSP
    assert "unsafe-inline" not in policy["script-src"] and "unsafe-eval" not in policy["script-src"]


def test_pages_carry_no_inline_script(admin_client, client, clerk):
    client.force_login(clerk)
    for response in (
        admin_client.get("/"),
        admin_client.get("/admin/"),
        admin_client.get("/api/docs/"),
        client.get("/desk/"),
    ):
        assert response.status_code == 200
        page = response.content.decode()
        assert "onclick=" not in page
        for script in page.split("<script")[1:]:
            assert " src=" in script.split(">")[0], script[:200]


def test_api_docs_ask_anonymous_users_to_log_in(client):
    response = client.get("/api/docs/")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/api/docs/"


def test_api_docs_serve_their_script_as_a_file(admin_client):
    page = admin_client.get("/api/docs/").content.decode()
    assert "/api/docs/?script=" in page
    script = admin_client.get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


def test_only_the_library_pages_may_use_inline_styles(admin_client):
    assert directives(admin_client.get("/"))["style-src"] == "'self'"
    for response in (
        admin_client.get("/api/docs/"),
        admin_client.get("/api/films/", HTTP_ACCEPT="text/html"),
    ):
        policy = directives(response)
        assert policy["style-src"] == "'self' 'unsafe-inline'"
        assert policy["script-src"] == "'self'"
    assert "Content-Security-Policy" in admin_client.get("/api/films/")  # JSON too


def test_the_desk_picks_customers_without_inline_script(client, clerk, store):
    from tests.factories import CustomerFactory

    CustomerFactory(store=store, last_name="SMITH", email="same@x.org")
    CustomerFactory(store=store, last_name="SMYTHE", email="same@x.org")
    client.force_login(clerk)
    page = client.get("/desk/customers/", {"q": "SM", "pick": "1"}).content.decode()
    # Options of a listbox that static/js/lookup.js handles: no handler in the page.
    assert 'role="option"' in page and "data-value=" in page
    assert "onclick" not in page and "<script>" not in page


@pytest.mark.parametrize("body", [[None, None], {"username": 5, "password": []}, "text"])
def test_the_token_endpoint_answers_400_to_a_body_it_cannot_read(body):
    response = APIClient().post(reverse("api-token"), body, format="json")
    assert response.status_code == 400
