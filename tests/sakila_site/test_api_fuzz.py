"""Schemathesis sends generated requests to every operation of the API's schema.

Whatever it sends (huge numbers, odd strings, dates of year 1, missing
fields), the API answers without a server error, and a successful answer
matches the schema. The requests go through the site's WSGI application in
this process, so they see the test's database; a user in the Admin role
linked to a staff row may call every operation, so the rules are reached,
not only 403s.

The schema is the one /api/schema/ serves, generated here at import:
schemathesis' fixture-based loader does not run on pytest 9 (it sets
``Node._nodeid``, which pytest 9 no longer has).
"""

import json
from collections.abc import Iterator

import pytest
import schemathesis
from django.conf import settings as django_settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from sakila_site.roles import CLERK, MANAGER
from sakila_site.wsgi import application
from tests.conftest import make_role_user
from tests.factories import CustomerFactory, FilmFactory, InventoryFactory, PaymentFactory

pytestmark = [pytest.mark.django_db, pytest.mark.slow]  # about 40 operations, 25 requests each

# Hypothesis keeps caches in .hypothesis/ of the working directory: under var/ instead.
set_hypothesis_home_dir(django_settings.VAR_DIR / "hypothesis")


def served_schema() -> dict:
    """The schema as /api/schema/ renders it, as plain JSON data."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(schema))


# Every API of the site: rentals, the token endpoint and the lake runs.
schema = schemathesis.openapi.from_dict(served_schema()).include(
    path_regex=r"^/api/v1/(films|customers|stores|inventory|rentals|payments|auth|lake|reports|me)/"
)


@pytest.fixture
def wsgi_application() -> Iterator[WSGIHandler]:
    """The site's WSGI application, keeping the test's database connection open
    between requests (it would close it, and the test's transaction with it;
    Django's test client prevents this the same way)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield application
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def rows_and_token(user, store) -> dict[str, str]:
    # Rows with small ids, which generated requests hit often.
    for _ in range(3):
        film = FilmFactory()
        InventoryFactory.create_batch(2, film=film, store=store)
        CustomerFactory(store=store)
    PaymentFactory(rental__inventory__store=store)
    return {"Authorization": f"Token {Token.objects.create(user=user).key}"}


@pytest.fixture
def auth_headers(admin_role_user, store) -> dict[str, str]:
    return rows_and_token(admin_role_user, store)


@pytest.fixture(params=[CLERK, MANAGER])
def role_headers(request, store) -> dict[str, str]:
    user = make_role_user(request.param, store=store, username=request.param.lower())
    return rows_and_token(user, store)


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    database=None,  # no example database: each run explores afresh
    suppress_health_check=list(HealthCheck),
)
def test_generated_requests_never_crash_the_api(case, wsgi_application, auth_headers):
    case.call_and_validate(
        app=wsgi_application,
        headers=auth_headers,
        checks=[not_a_server_error, response_schema_conformance],
    )


@schema.parametrize()
@settings(
    max_examples=6,  # what differs by role is mostly the 403s and the rows each may see
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_a_clerk_and_a_manager_get_answers_the_schema_describes(
    case, wsgi_application, role_headers
):
    case.call_and_validate(
        app=wsgi_application,
        headers=role_headers,
        checks=[not_a_server_error, response_schema_conformance],
    )
