"""GET /api/me/: who a token is, as a client needs it to rent without knowing its store."""

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.problems import problem_of

pytestmark = pytest.mark.django_db


def me(user) -> dict:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    response = client.get("/api/me/")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_clerk_learns_their_staff_member_store_and_rights(clerk, store):
    body = me(clerk)
    staff = clerk.staff_profile.staff
    assert body == {
        "id": clerk.pk,
        "username": "clerk",
        "role": "Clerk",
        "staff": {"id": staff.pk, "name": str(staff), "active": True},
        "store": {
            "id": store.pk,
            "address": store.address.address,
            "city": str(store.address.city),
        },
        "may": {
            "rent": True,
            "return": True,
            "take_payments": True,
            "read_runs": False,
            "start_runs": False,
            "read_reports": False,
        },
    }


def test_a_manager_and_a_login_without_staff(manager, admin_role_user, django_user_model):
    body = me(manager)
    assert body["role"] == "Manager" and body["may"]["start_runs"] is True
    superuser = django_user_model.objects.create_superuser("root", password="x")
    assert me(superuser) | {"id": None} == {
        "id": None,
        "username": "root",
        "role": "Admin",
        "staff": None,
        "store": None,
        "may": dict.fromkeys(
            ["rent", "return", "take_payments", "read_runs", "start_runs", "read_reports"], True
        ),
    }


def test_no_login_is_a_401_problem():
    response = APIClient().get("/api/me/")
    assert response.status_code == 401
    assert problem_of(response)["code"] == "not_authenticated"
