"""The read-only SQL console (/lake/sql/): what runs, what is refused, the limits."""

import csv
import io
from html import unescape

import pytest
from django.urls import reverse
from django.utils.html import strip_tags

from lake.query.duckdb import ERROR_NO_DATA
from rentals.generator import generate_sakila
from reports import console
from sakila_site.roles import MANAGER
from tests.conftest import make_role_user
from tests.lake.conftest import lake_query, run_pipeline

CONSOLE = reverse("lake:sql")

# Each is refused, with a message on the page (never a 500).
REFUSED = {
    "insert into fact_sales (rental_id) values (1)": "Only a single SELECT",
    "update dim_store set city = 'x'": "Only a single SELECT",
    "delete from fact_sales": "Only a single SELECT",
    "create table stolen as select * from dim_customer": "Only a single SELECT",
    "drop view fact_sales": "Only a single SELECT",
    "copy (select * from dim_customer) to '/tmp/customers.csv'": "Only a single SELECT",
    "attach '/tmp/other.duckdb' as other": "Only a single SELECT",
    "install httpfs": "Only a single SELECT",
    "load httpfs": "Only a single SELECT",
    "set enable_external_access = true": "Only a single SELECT",
    "select 1; select 2": "Only a single SELECT",
    "select 1; drop view fact_sales": "Only a single SELECT",
    "select * from read_csv('/etc/passwd')": "disabled",
    "select * from read_parquet('http://example.com/x.parquet')": "disabled",
    "select * from read_text('/etc/hostname')": "disabled",
    "select * from rental": "rental does not exist",
    "select * from sqlite_scan('/tmp/db.sqlite3', 'rental')": "",
    "selec 1": "syntax error",
    "": console.ERROR_EMPTY,
}


def text(response) -> str:
    return " ".join(unescape(strip_tags(response.content.decode())).split())


def run(client, sql: str, **extra):
    return client.post(CONSOLE, {"sql": sql, **extra})


@pytest.mark.django_db
def test_the_console_is_for_managers(client, clerk):
    assert client.get(CONSOLE).url.startswith(reverse("login"))
    assert client.post(CONSOLE, {"sql": "select 1"}).url.startswith(reverse("login"))
    client.force_login(clerk)
    assert client.get(CONSOLE).status_code == 403
    assert client.post(CONSOLE, {"sql": "select 1"}).status_code == 403


@pytest.mark.django_db
def test_the_form_lists_the_marts_and_their_columns(client, manager, lake):
    client.force_login(manager)
    response = client.get(CONSOLE)
    assert response.status_code == 200
    page = text(response)
    for name in ("fact_sales", "dim_customer", "dim_film", "dim_store", "dim_date"):
        assert name in page
    assert "rental_date" in page and "<textarea" in response.content.decode()
    assert 'aria-current="page">SQL</a>' in response.content.decode()


@pytest.mark.django_db
def test_an_empty_lake_says_so(client, manager, lake):
    client.force_login(manager)
    response = run(client, "select count(*) from fact_sales")
    assert response.status_code == 400
    assert ERROR_NO_DATA in text(response)


@pytest.mark.django_db(transaction=True)
def test_queries_on_a_real_lake(client, lake):
    generate_sakila(scale=0.02, seed=21)
    run_pipeline()
    client.force_login(make_role_user(MANAGER))

    # A good query: its rows, as the lake holds them.
    sql = (
        "select store_id, count(*) as rentals from fact_sales group by 1 order by 1;  -- per store"
    )
    response = run(client, sql)
    assert response.status_code == 200
    expected = lake_query("select store_id, count(*) as n from fact_sales group by 1 order by 1")
    result = response.context["result"]
    assert result.columns == ["store_id", "rentals"]
    assert result.rows == [(row["store_id"], row["n"]) for row in expected]
    assert not result.capped
    assert f"{len(expected)} rows" in text(response)

    # Refused or failed: the message is on the page, with a 400.
    for sql, message in REFUSED.items():
        response = run(client, sql)
        assert response.status_code == 400, sql
        assert message in text(response), (sql, response.context["error"])
        assert "result" not in response.context
    assert lake_query("select count(*) as n from fact_sales")[0]["n"] > 0  # nothing dropped

    # Over the row limit: the first rows, and a message.
    response = run(client, "select range as n from range(5000)")
    assert response.status_code == 200
    result = response.context["result"]
    assert result.capped and len(result.rows) == console.ROW_LIMIT
    assert f"Showing the first {console.ROW_LIMIT:,} rows" in text(response)

    # The CSV download: the same query, header then rows.
    response = run(client, "select store_id, city from dim_store order by 1", format="csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    stores = lake_query("select store_id, city from dim_store order by 1")
    assert rows == [["store_id", "city"]] + [[str(s["store_id"]), s["city"]] for s in stores]
    response = run(client, "select * from read_csv('/etc/passwd')", format="csv")
    assert response.status_code == 400 and "disabled" in text(response)


@pytest.mark.django_db(transaction=True)
def test_a_slow_query_is_stopped(client, lake, monkeypatch):
    generate_sakila(scale=0.02, seed=22)
    run_pipeline()
    monkeypatch.setattr(console, "TIMEOUT_SECONDS", 0.3)
    client.force_login(make_role_user(MANAGER))
    slow = "select sum(a.range * b.range) from range(1000000) a, range(1000000) b"
    response = run(client, slow)
    assert response.status_code == 400
    assert "The query was stopped after 0.3 s" in text(response)
    # The console still answers afterwards.
    assert console.console_query_run("select 1 as one").rows == [(1,)]
