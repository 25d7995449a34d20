"""CSV exports: a plain header row first, read back by pandas and the csv module;
formula-like text neutralised (OWASP CSV injection) in every export."""

import csv
import io

import pandas as pd
import pytest
from django.urls import reverse

from rentals.generator import generate_sakila
from rentals.models import Customer
from reports.registry import REPORTS
from sakila_site.csv_safe import csv_cell
from sakila_site.roles import MANAGER
from tests.conftest import make_role_user
from tests.lake.conftest import run_pipeline

pytestmark = pytest.mark.usefixtures("empty_cache")

INJECTIONS = ['=HYPERLINK("http://e.x","x")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("value", INJECTIONS)
def test_formula_like_text_is_neutralised(value):
    assert csv_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["plain", "a=b", "", 0, -5, 12.5, "O'Hara"])
def test_other_cells_are_written_as_they_are(value):
    assert csv_cell(value) == value


def test_null_is_an_empty_cell():
    assert csv_cell(None) == ""


@pytest.mark.django_db(transaction=True)
def test_every_report_export_reads_back_with_its_columns_as_header(client, lake):
    generate_sakila(scale=0.02, seed=31)
    # A clerk can edit customers: a name that is a formula.
    customer = Customer.objects.order_by("pk").first()
    customer.first_name, customer.last_name = '=HYPERLINK("http://e.x","x")', "@evil"
    customer.email = "+cmd@example.com"
    customer.save()
    run_pipeline()
    client.force_login(make_role_user(MANAGER))

    for name in REPORTS:
        page = client.get(reverse("reports:report", args=[name]))
        result = page.context["result"]
        response = client.get(reverse("reports:csv", args=[name]))
        assert response.status_code == 200, name
        body = response.content.decode()
        frame = pd.read_csv(io.StringIO(body))
        assert list(frame.columns) == result.columns, name
        assert len(frame) == len(result.rows), name
        rows = list(csv.reader(io.StringIO(body)))
        assert rows[0] == result.columns
        for cells in rows[1:]:
            assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for cell in cells), cells
            assert not any(c.startswith("-") and not _is_number(c) for c in cells), cells

    # The customer's row in receivables_by_customer: neutralised, still readable.
    response = client.get(reverse("reports:csv", args=["receivables_by_customer"]))
    frame = pd.read_csv(io.StringIO(response.content.decode()))
    row = frame[frame["customer_id"] == customer.pk].iloc[0]
    assert row["customer"].startswith("'=HYPERLINK(")
    assert frame["customer_id"].dtype.kind == "i"  # ids stay numbers


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
