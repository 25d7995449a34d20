"""Who may open what: every page and endpoint of the site, for every role.

Roles: anonymous, a login with no role, Clerk, Manager and Admin (group
members linked to a staff row, not superusers). A guard below fails when a
URL is added without a line here.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django_celery_beat.models import PeriodicTask
from rest_framework.authtoken.models import Token

from lake.models import CrawledTable, PipelineRun
from rentals.models import Customer, Rental
from sakila_site.roles import ADMIN, CLERK, MANAGER
from tests.conftest import make_role_user
from tests.factories import (
    CustomerFactory,
    FilmFactory,
    InventoryFactory,
    PaymentFactory,
    RentalFactory,
)

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "no role", "clerk", "manager", "admin")
LOGIN = "login"  # redirected to the site's login page
ADMIN_LOGIN = "admin login"  # redirected to the admin's login page


def expect(anonymous, no_role, clerk, manager, admin) -> dict[str, object]:
    return dict(zip(ROLES, (anonymous, no_role, clerk, manager, admin), strict=True))


DESK = expect(LOGIN, 403, 200, 200, 200)
DESK_POST = expect(LOGIN, 403, 302, 302, 302)
LAKE = expect(LOGIN, 403, 403, 200, 200)
LAKE_POST = expect(LOGIN, 403, 403, 302, 302)
API_CLERK = expect(401, 403, 200, 200, 200)
API_LAKE = expect(401, 403, 403, 200, 200)
API_ANY_LOGIN = expect(401, 200, 200, 200, 200)
ANY_LOGIN = expect(LOGIN, 200, 200, 200, 200)  # a page for people: the login page first


@dataclass
class World:
    """What the URLs point at, made fresh for every check."""

    customer: Customer
    film_id: int
    rental: Rental
    payment_id: int
    failed_run: PipelineRun

    def queued_run(self) -> PipelineRun:
        return PipelineRun.objects.create(status=PipelineRun.Status.QUEUED)


@pytest.fixture
def world(store, settings, tmp_path) -> World:
    settings.LAKE_WAREHOUSE = str(tmp_path / "lake")
    settings.LAKE_CATALOG_URI = f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    film = FilmFactory(rental_rate=Decimal("2.99"))
    InventoryFactory.create_batch(2, film=film, store=store)
    customer = CustomerFactory(store=store)
    rental = RentalFactory(inventory__store=store, customer=customer)
    payment = PaymentFactory(rental=rental, customer=customer, staff=rental.staff)
    CrawledTable.objects.create(name="rental", location="raw/rental", columns=[])
    failed = PipelineRun.objects.create(status=PipelineRun.Status.FAILED)
    return World(
        customer=customer, film_id=film.pk, rental=rental, payment_id=payment.pk, failed_run=failed
    )


# (URL name, method, path maker, body maker, expected status per role)
Check = tuple[str, str, Callable[[World], str], Callable[[World], dict], dict]
NO_BODY: Callable[[World], dict] = lambda w: {}  # noqa: E731

CHECKS: list[Check] = [
    ("home", "get", lambda w: "/", NO_BODY, expect(LOGIN, 200, 200, 200, 200)),
    ("login", "get", lambda w: "/accounts/login/", NO_BODY, expect(200, 200, 200, 200, 200)),
    ("logout", "post", lambda w: "/accounts/logout/", NO_BODY, expect(302, 302, 302, 302, 302)),
    ("landing", "get", lambda w: "/accounts/start/", NO_BODY, expect(LOGIN, 302, 302, 302, 302)),
    # The rental desk
    ("desk:index", "get", lambda w: "/desk/", NO_BODY, DESK),
    # (The customer may owe money: the clerk has seen it, and confirms a payment over it.)
    ("desk:rent", "post", lambda w: "/desk/rent/",
     lambda w: {"customer": w.customer.pk, "film": w.film_id, "acknowledged": "on"}, DESK_POST),
    ("desk:return", "post", lambda w: "/desk/return/", lambda w: {"rental": w.rental.pk}, DESK_POST),
    ("desk:rental", "get", lambda w: f"/desk/rentals/{w.rental.pk}/", NO_BODY, DESK),
    ("desk:customer-search", "get", lambda w: "/desk/customers/?q=a", NO_BODY, DESK),
    ("desk:customer", "get", lambda w: f"/desk/customers/{w.customer.pk}/", NO_BODY, DESK),
    ("desk:customer-pay", "post", lambda w: f"/desk/customers/{w.customer.pk}/pay/",
     lambda w: {"amount": "1.00", "confirm_overpayment": "on"}, DESK_POST),
    ("desk:film-options", "get", lambda w: "/desk/films/?q=a", NO_BODY, DESK),
    # The lake control panel
    ("lake:runs", "get", lambda w: "/lake/", NO_BODY, LAKE),
    ("lake:trigger", "post", lambda w: "/lake/runs/trigger/", lambda w: {"mode": "full"}, LAKE_POST),
    ("lake:run", "get", lambda w: f"/lake/runs/{w.failed_run.pk}/", NO_BODY, LAKE),
    ("lake:run-live", "get", lambda w: f"/lake/runs/{w.failed_run.pk}/live/", NO_BODY, LAKE),
    ("lake:run-cancel", "post", lambda w: f"/lake/runs/{w.queued_run().pk}/cancel/", NO_BODY,
     LAKE_POST),
    ("lake:run-retry", "post", lambda w: f"/lake/runs/{w.failed_run.pk}/retry/", NO_BODY,
     LAKE_POST),
    # A local run: refused with a message (the Glue side needs AWS, see tests/lake).
    ("lake:run-resume", "post", lambda w: f"/lake/runs/{w.failed_run.pk}/resume/", NO_BODY,
     LAKE_POST),
    # A failed run, not one whose checks failed: refused with a message.
    ("lake:run-publish", "post", lambda w: f"/lake/runs/{w.failed_run.pk}/publish/",
     lambda w: {"reason": "known"}, LAKE_POST),
    ("lake:freshness", "get", lambda w: "/lake/freshness/", NO_BODY, LAKE),
    ("lake:alerts", "get", lambda w: "/lake/alerts/", NO_BODY, LAKE),
    ("lake:alerts", "post", lambda w: "/lake/alerts/", lambda w: {"stale": "on"}, LAKE_POST),
    ("lake:schedules", "get", lambda w: "/lake/schedules/", NO_BODY, LAKE),
    ("lake:schedule-toggle", "post",
     lambda w: f"/lake/schedules/{PeriodicTask.objects.order_by('pk').first().pk}/toggle/",
     lambda w: {"enabled": "false"}, LAKE_POST),
    ("lake:audit", "get", lambda w: "/lake/audit/", NO_BODY, LAKE),
    ("lake:catalog", "get", lambda w: "/lake/catalog/", NO_BODY, LAKE),
    ("lake:catalog-table", "get", lambda w: "/lake/catalog/raw/rental/", NO_BODY, LAKE),
    ("sql-console", "get", lambda w: "/lake/sql/", NO_BODY, LAKE),
    ("sql-console", "post", lambda w: "/lake/sql/", lambda w: {"sql": "select 1"},
     expect(LOGIN, 403, 403, 400, 400)),  # 400: the lake has no data yet
    # Reports (an empty lake: the pages say so, the CSV export is a 409)
    ("reports:dashboard", "get", lambda w: "/reports/", NO_BODY, LAKE),
    ("reports:report", "get", lambda w: "/reports/sales_by_store/", NO_BODY, LAKE),
    ("reports:customer", "get", lambda w: "/reports/customers/1/", NO_BODY, LAKE),
    ("reports:csv", "get", lambda w: "/reports/sales_by_store/csv/", NO_BODY,
     expect(LOGIN, 403, 403, 409, 409)),
    # The admin (a sample per kind of page; the admin's own tests cover the rest)
    ("admin:index", "get", lambda w: "/admin/", NO_BODY,
     expect(ADMIN_LOGIN, ADMIN_LOGIN, 200, 200, 200)),
    ("admin:rentals_rental_changelist", "get", lambda w: "/admin/rentals/rental/", NO_BODY,
     expect(ADMIN_LOGIN, ADMIN_LOGIN, 200, 200, 200)),
    ("admin:rentals_rental_add", "get", lambda w: "/admin/rentals/rental/add/", NO_BODY,
     expect(ADMIN_LOGIN, ADMIN_LOGIN, 200, 200, 200)),
    ("admin:rentals_film_change", "get", lambda w: f"/admin/rentals/film/{w.film_id}/change/",
     NO_BODY, expect(ADMIN_LOGIN, ADMIN_LOGIN, 200, 200, 200)),  # clerks see it read-only
    ("admin:rentals_film_delete", "get", lambda w: f"/admin/rentals/film/{w.film_id}/delete/",
     NO_BODY, expect(ADMIN_LOGIN, ADMIN_LOGIN, 403, 200, 200)),
    ("admin:lake_pipelinerun_changelist", "get", lambda w: "/admin/lake/pipelinerun/", NO_BODY,
     expect(ADMIN_LOGIN, ADMIN_LOGIN, 403, 200, 200)),
    ("admin:django_celery_beat_periodictask_changelist", "get",
     lambda w: "/admin/django_celery_beat/periodictask/", NO_BODY,
     expect(ADMIN_LOGIN, ADMIN_LOGIN, 403, 200, 200)),
    ("admin:auth_user_changelist", "get", lambda w: "/admin/auth/user/", NO_BODY,
     expect(ADMIN_LOGIN, ADMIN_LOGIN, 403, 403, 200)),
    # The REST API
    ("api-root", "get", lambda w: "/api/", NO_BODY, API_ANY_LOGIN),
    ("api-schema", "get", lambda w: "/api/schema/", NO_BODY, API_ANY_LOGIN),
    ("api-docs", "get", lambda w: "/api/docs/", NO_BODY, ANY_LOGIN),
    ("api-token", "post", lambda w: "/api/auth/token/",
     lambda w: {"username": "clerk", "password": "pw-for-tests-only"}, expect(*[200] * 5)),
    ("api-me", "get", lambda w: "/api/me/", NO_BODY, API_ANY_LOGIN),
    ("api-film-list", "get", lambda w: "/api/films/", NO_BODY, API_CLERK),
    ("api-film-detail", "get", lambda w: f"/api/films/{w.film_id}/", NO_BODY, API_CLERK),
    ("api-customer-list", "get", lambda w: "/api/customers/", NO_BODY, API_CLERK),
    ("api-customer-detail", "get", lambda w: f"/api/customers/{w.customer.pk}/", NO_BODY,
     API_CLERK),
    ("api-store-list", "get", lambda w: "/api/stores/", NO_BODY, API_CLERK),
    ("api-store-detail", "get", lambda w: f"/api/stores/{w.customer.store_id}/", NO_BODY,
     API_CLERK),
    ("api-inventory-list", "get", lambda w: "/api/inventory/", NO_BODY, API_CLERK),
    ("api-inventory-detail", "get", lambda w: f"/api/inventory/{w.rental.inventory_id}/",
     NO_BODY, API_CLERK),
    ("api-rental-list", "get", lambda w: "/api/rentals/", NO_BODY, API_CLERK),
    ("api-rental-list", "post", lambda w: "/api/rentals/",
     lambda w: {"customer": w.customer.pk, "film": w.film_id}, expect(401, 403, 201, 201, 201)),
    ("api-rental-detail", "get", lambda w: f"/api/rentals/{w.rental.pk}/", NO_BODY, API_CLERK),
    ("api-rental-return-rental", "post", lambda w: f"/api/rentals/{w.rental.pk}/return/", NO_BODY,
     API_CLERK),
    ("api-payment-list", "get", lambda w: "/api/payments/", NO_BODY, API_CLERK),
    ("api-payment-list", "post", lambda w: "/api/payments/",
     lambda w: {"customer": w.customer.pk, "amount": "1.00", "confirm_overpayment": True},
     expect(401, 403, 201, 201, 201)),
    ("api-payment-detail", "get", lambda w: f"/api/payments/{w.payment_id}/", NO_BODY, API_CLERK),
    ("api-report-list", "get", lambda w: "/api/reports/", NO_BODY, API_LAKE),
    ("api-report-csv", "get", lambda w: "/api/reports/sales_by_store/csv/", NO_BODY,
     expect(401, 403, 403, 409, 409)),
    ("api-report-detail", "get", lambda w: "/api/reports/sales_by_store/", NO_BODY,
     expect(401, 403, 403, 409, 409)),  # 409: the lake has no data yet
    ("api-lake-run-list", "get", lambda w: "/api/lake/runs/", NO_BODY, API_LAKE),
    ("api-lake-run-list", "post", lambda w: "/api/lake/runs/", lambda w: {"full": False},
     expect(401, 403, 403, 201, 201)),
    ("api-lake-run-detail", "get", lambda w: f"/api/lake/runs/{w.failed_run.pk}/", NO_BODY,
     API_LAKE),
    ("api-lake-run-cancel", "post", lambda w: f"/api/lake/runs/{w.queued_run().pk}/cancel/",
     NO_BODY, API_LAKE),
    ("api-lake-run-retry", "post", lambda w: f"/api/lake/runs/{w.failed_run.pk}/retry/",
     NO_BODY, expect(401, 403, 403, 201, 201)),
    ("api-lake-run-resume", "post", lambda w: f"/api/lake/runs/{w.failed_run.pk}/resume/",
     NO_BODY, expect(401, 403, 403, 409, 409)),  # 409: a local run cannot be resumed
    ("api-lake-run-publish", "post", lambda w: f"/api/lake/runs/{w.failed_run.pk}/publish/",
     lambda w: {"reason": "known"}, expect(401, 403, 403, 409, 409)),  # 409: not checks failed
]  # fmt: skip


def login_for(role: str, store) -> Client:
    client = Client()
    if role == "anonymous":
        return client
    if role == "no role":
        user = get_user_model().objects.create_user("nobody", password="pw")
    else:
        role_name = {"clerk": CLERK, "manager": MANAGER, "admin": ADMIN}[role]
        user = make_role_user(role_name, store=store, username=role)
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("name", "method", "path", "body", "expected"),
    CHECKS,
    ids=[f"{method} {name}" for name, method, *_ in CHECKS],
)
def test_who_may_open_what(world, store, role, name, method, path, body, expected):
    if name == "api-token" and role != "clerk":  # the token is asked for the clerk's login
        make_role_user(CLERK, store=store, username="clerk")
    client = login_for(role, store)
    url = path(world)
    if method == "get":
        response = client.get(url)
    elif url.startswith("/api/"):
        response = client.post(url, body(world), content_type="application/json")
    else:
        response = client.post(url, body(world))

    wanted = expected[role]
    if wanted == LOGIN:
        assert response.status_code == 302, (url, response.status_code)
        assert response["Location"].startswith(reverse("login") + "?next="), response["Location"]
    elif wanted == ADMIN_LOGIN:
        assert response.status_code == 302, (url, response.status_code)
        assert response["Location"].startswith(reverse("admin:login")), response["Location"]
    else:
        assert response.status_code == wanted, (url, response.status_code, response.content[:300])


def test_api_tokens_open_the_api_as_their_user(world, store):
    clerk = make_role_user(CLERK, store=store, username="clerk")
    token = Token.objects.create(user=clerk)
    client = Client(headers={"Authorization": f"Token {token.key}"})
    assert client.get("/api/rentals/").status_code == 200
    assert client.get("/api/lake/runs/").status_code == 403
    assert (
        Client(headers={"Authorization": "Token nonsense"}).get("/api/rentals/").status_code == 401
    )


def site_url_names() -> set[str]:
    """Every named URL of the desk, the lake panel and the API (the admin aside)."""
    names: set[str] = set()

    def walk(patterns, namespace: str = "") -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}{pattern.name}")

    walk(get_resolver().url_patterns)
    # DRF's format-suffix twins (.json) are the same views.
    return {name for name in names if not name.endswith("-format")}


def test_every_page_and_endpoint_is_in_the_matrix():
    checked = {name for name, *_ in CHECKS}
    assert site_url_names() - checked == set()
