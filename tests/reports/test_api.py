"""The reports API (/api/reports/): the list with parameter schemas, and rows as JSON."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from lake.models import PipelineRun
from lake.query.duckdb import ERROR_NO_DATA
from reports.registry import ERROR_UNKNOWN_REPORT, REPORTS, report_get, report_run
from sakila_site.roles import CLERK, MANAGER
from tests.conftest import make_role_user
from tests.lake.conftest import run_pipeline
from tests.problems import detail_of, errors_of
from tests.reports.test_registry import add_rental

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("empty_cache")]

REPORTS_URL = "/api/reports/"


def client_for(role: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(make_role_user(role, username=role.lower()))
    return client


@pytest.fixture
def sales(sakila_lake):
    return sakila_lake(scale=0.02, seed=11)


@pytest.fixture
def api() -> APIClient:
    return client_for(MANAGER)


def test_reports_are_for_managers_only(lake):
    anonymous = APIClient()
    assert anonymous.get(REPORTS_URL).status_code == 401
    assert anonymous.get(f"{REPORTS_URL}sales_by_store/").status_code == 401
    clerk = client_for(CLERK)
    assert clerk.get(REPORTS_URL).status_code == 403
    assert clerk.get(f"{REPORTS_URL}sales_by_store/").status_code == 403


def test_the_list_describes_each_report_and_its_parameters(api):
    response = api.get(REPORTS_URL)
    assert response.status_code == 200
    listed = {report["name"]: report for report in response.json()}
    assert list(listed) == list(REPORTS)
    assert listed["top_films"] == {
        "name": "top_films",
        "title": "Top films",
        "description": REPORTS["top_films"].description,
        "chart": {"kind": "bar", "x": "title", "y": ["revenue"], "unit": "month"},
        "params": [
            {"name": "start", "kind": "date", "label": "From (rental date)", "default": None,
             "min": None, "max": None},
            {"name": "end", "kind": "date", "label": "To (rental date, inclusive)",
             "default": None, "min": None, "max": None},
            {"name": "store", "kind": "store", "label": "Store", "default": None, "min": None,
             "max": None},
            {"name": "top", "kind": "int", "label": "How many", "default": 10, "min": 1,
             "max": 100},
            {"name": "category", "kind": "text", "label": "Category", "default": None,
             "min": None, "max": None},
        ],
    }  # fmt: skip
    assert [param["name"] for param in listed["sales_by_store"]["params"]] == [
        "start", "end", "store"
    ]  # fmt: skip


def test_a_report_as_json(sales, api):
    response = api.get(f"{REPORTS_URL}sales_by_store/", {"start": "2005-06-01", "store": "1"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["from_cache"] is False
    params = {"start": date(2005, 6, 1), "end": None, "store": 1}
    expected = report_run(report_get("sales_by_store"), params)
    assert expected.from_cache  # the API's rows, cached for the pages too
    assert body["report"] == "sales_by_store"
    assert body["params"] == {"start": "2005-06-01", "end": None, "store": 1}
    assert body["columns"] == ["store_id", "store", "manager", "total_sales"]
    assert body["rows"] == [
        {**row, "total_sales": str(row["total_sales"])} for row in expected.rows
    ]
    assert Decimal(body["rows"][0]["total_sales"]) == expected.rows[0]["total_sales"]
    assert body["run_id"] == sales.pk
    assert body["as_of"] == sales.finished_at.strftime("%Y-%m-%dT%H:%M:%S")
    query = {"start": "2005-06-01", "store": "1"}
    assert api.get(f"{REPORTS_URL}sales_by_store/", query).json()["from_cache"] is True
    refreshed = api.get(f"{REPORTS_URL}sales_by_store/", {**query, "refresh": "1"}).json()
    assert refreshed["from_cache"] is False

    top = api.get(f"{REPORTS_URL}top_customers/", {"top": "2"}).json()
    assert len(top["rows"]) == 2
    assert top["params"]["top"] == 2


def test_bad_parameters_are_400s_naming_the_field(sales, api):
    url = f"{REPORTS_URL}top_films/"
    response = api.get(url, {"start": "yesterday", "store": "7", "top": "abc"})
    assert response.status_code == 400
    assert errors_of(response) == {
        "start": ["Enter a date as YYYY-MM-DD, not 'yesterday'."],
        "store": ["There is no store 7."],
        "top": ["Enter a whole number, not 'abc'."],
    }
    response = api.get(url, {"start": "2005-07-02", "end": "2005-07-01"})
    assert response.status_code == 400
    assert list(errors_of(response)) == ["end"]
    assert api.get(f"{REPORTS_URL}nope/").status_code == 404


def test_time_travel_and_runs_that_cannot_be_read(sales, api):
    url = f"{REPORTS_URL}sales_by_month/"
    before = api.get(url).json()
    add_rental(Decimal("3.50"))
    later = run_pipeline()
    now = api.get(url).json()
    assert now["run_id"] == later.pk
    assert now["rows"] != before["rows"]
    earlier = api.get(url, {"as_of_run": sales.pk}).json()
    assert earlier["run_id"] == sales.pk
    assert earlier["rows"] == before["rows"]

    failed = PipelineRun.objects.create(status=PipelineRun.Status.FAILED)
    for bad in (failed.pk, 999999, "x"):
        response = api.get(url, {"as_of_run": bad})
        assert response.status_code == 400, bad
        assert list(errors_of(response)) == ["as_of_run"]


def test_no_data_yet(api, lake):
    response = api.get(f"{REPORTS_URL}sales_by_store/")
    assert response.status_code == 409
    assert detail_of(response) == ERROR_NO_DATA


def test_a_token_reads_the_pages_csv_export(sales, manager_user_with_token):
    user, token = manager_user_with_token
    page = Client()
    page.force_login(user)
    query = {"start": "2005-06-01", "end": "2005-08-31", "top": "5", "sort": "-rentals"}
    exported = page.get("/reports/top_films/csv/", query)
    assert exported.status_code == 200

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    by_format = api.get(f"{REPORTS_URL}top_films/", {**query, "format": "csv"})
    by_accept = api.get(f"{REPORTS_URL}top_films/", query, HTTP_ACCEPT="text/csv")
    by_address = api.get(f"{REPORTS_URL}top_films/csv/", query)

    for response in (by_format, by_accept, by_address):
        assert response.status_code == 200, response.content
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert response.content == exported.content
        assert response["Content-Disposition"] == exported["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(by_format.content.decode())))
    assert len(rows) == 6


def test_a_csv_request_with_bad_parameters_is_a_problem(sales, api):
    response = api.get(f"{REPORTS_URL}top_films/", {"format": "csv", "start": "yesterday"})
    assert response.status_code == 400
    assert list(errors_of(response)) == ["start"]
    response = api.get(f"{REPORTS_URL}top_films/csv/", {"start": "yesterday"})
    assert response.status_code == 400
    assert list(errors_of(response)) == ["start"]
    missing = api.get(f"{REPORTS_URL}nope/csv/")
    assert missing.status_code == 404
    assert detail_of(missing) == ERROR_UNKNOWN_REPORT.format(name="nope")


@pytest.fixture
def manager_user_with_token():
    user = make_role_user(MANAGER, username="manager")
    return user, Token.objects.create(user=user).key
