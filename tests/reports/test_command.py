"""python manage.py report NAME [--param k=v ...] [--format csv|json] [--as-of-run N]."""

import csv
import io
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from lake.models import PipelineRun
from lake.query.duckdb import ERROR_NO_DATA
from reports.registry import REPORTS, report_get, report_params_clean, report_run
from tests.lake.conftest import run_pipeline
from tests.reports.test_registry import add_rental

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("empty_cache")]


@pytest.fixture
def sales(sakila_lake):
    return sakila_lake(scale=0.02, seed=11)


def report(*args) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("report", *args, stdout=out, stderr=err)
    return out.getvalue()


def test_list(lake):
    listed = report("--list")
    for name, definition in REPORTS.items():
        assert name in listed
        assert definition.title in listed
    assert "top=int[10]" in listed


def test_csv_is_the_default(sales):
    rows = list(csv.reader(io.StringIO(report("top_films", "--param", "top=3"))))
    expected = report_run(
        report_get("top_films"), report_params_clean(report_get("top_films"), {"top": "3"})
    )
    assert rows[0] == expected.columns
    assert rows[1:] == [[str(row[c]) for c in expected.columns] for row in expected.rows]
    assert len(rows) == 4


def test_json_with_params_and_time_travel(sales):
    args = ["sales_by_store", "--param", "start=2005-06-01", "--param", "store=2"]
    body = json.loads(report(*args, "--format", "json"))
    assert body["params"] == {"start": "2005-06-01", "end": None, "store": 2}
    assert [row["store_id"] for row in body["rows"]] == [2]
    assert body["run_id"] == sales.pk
    assert body["meta"]["snapshots"] == sales.snapshots
    before = Decimal(body["rows"][0]["total_sales"])

    add_rental(Decimal("4.00"))  # a copy of store 1 or 2: the total of all stores moves
    run_pipeline()
    all_now = json.loads(report("sales_by_store", "--format", "json"))
    all_then = json.loads(
        report("sales_by_store", "--format", "json", "--as-of-run", str(sales.pk))
    )
    assert all_then["run_id"] == sales.pk
    assert total(all_now) == total(all_then) + Decimal("4.00")
    again = json.loads(report(*args, "--format", "json", "--as-of-run", str(sales.pk)))
    assert Decimal(again["rows"][0]["total_sales"]) == before
    assert again["from_cache"] is True


ERRORS = [
    ((), "Name a report"),
    (("nope",), "There is no report called 'nope'."),
    (("top_films", "--param", "top=abc"), "top: Enter a whole number, not 'abc'."),
    (("top_films", "--param", "top"), "Give parameters as name=value, not 'top'."),
    (("sales_by_store", "--param", "top=3"), "has no parameter 'top'"),
    (("sales_by_store", "--param", "store=9"), "store: There is no store 9."),
    (
        ("sales_by_store", "--param", "start=2005-06-02", "--param", "end=2005-06-01"),
        "end: The end date 2005-06-01 is before the start date 2005-06-02.",
    ),
    (("sales_by_store", "--as-of-run", "999999"), "as_of_run: There is no pipeline run"),
]


def total(body: dict) -> Decimal:
    return sum((Decimal(row["total_sales"]) for row in body["rows"]), Decimal(0))


def test_errors_are_command_errors(sales):
    for args, message in ERRORS:
        with pytest.raises(CommandError, match=message):
            report(*args)


def test_no_data_yet(lake):
    with pytest.raises(CommandError) as caught:
        report("sales_by_store")
    assert str(caught.value) == ERROR_NO_DATA
    failed = PipelineRun.objects.create(status=PipelineRun.Status.FAILED)
    with pytest.raises(CommandError, match=f"Run {failed.pk} cannot be read"):
        report("sales_by_store", "--as-of-run", str(failed.pk))
