"""The read-only SQL console (/lake/sql/): what runs, what is refused, the limits."""

import csv
import io
import os
import threading
import time
from html import unescape
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import strip_tags

from lake.query import console
from lake.query.duckdb import ERROR_NO_DATA
from sakila_site.roles import MANAGER
from tests.conftest import make_role_user
from tests.lake.conftest import lake_query, run_pipeline
from tests.lake.test_incremental import make_desk_changes

CONSOLE = reverse("sql-console")

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
def test_queries_on_a_real_lake(client, sakila_lake):
    sakila_lake(scale=0.02, seed=11)
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
def test_a_slow_query_is_stopped(client, sakila_lake, settings):
    sakila_lake(scale=0.02, seed=11)
    settings.SQL_CONSOLE_TIMEOUT_SECONDS = 0.3
    client.force_login(make_role_user(MANAGER))
    slow = "select sum(a.range * b.range) from range(1000000) a, range(1000000) b"
    response = run(client, slow)
    assert response.status_code == 400
    assert "The query was stopped after 0.3 s" in text(response)
    # The console still answers afterwards.
    assert console.console_query_run("select 1 as one").rows == [(1,)]


# --- Limits: result bytes, memory, nested values, time travel, sharing, history ----------

HUGE_ROWS = "SELECT i, repeat('x', 1000000) FROM range(1000) t(i)"
HUGE_LIST = "select list(repeat('x', 10000000)) as l from range(200)"


class PeakMemory:
    """The process's resident memory, sampled every few milliseconds in a thread."""

    def __init__(self) -> None:
        self.peak = self.now()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    @staticmethod
    def now() -> int:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.now())
            time.sleep(0.002)

    def __enter__(self) -> "PeakMemory":
        self.before = self.now()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.before) / 2**20


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_huge_results_are_refused_with_memory_bounded(client, sakila_lake, settings):
    """The two queries that once took the web process to 2.3 GB and 5.2 GB."""
    sakila_lake(scale=0.02, seed=11)
    client.force_login(make_role_user(MANAGER))
    console.console_query_run("select 1")  # the shared database exists before measuring

    with PeakMemory() as memory:
        response = run(client, HUGE_ROWS)
    assert response.status_code == 400
    assert "The result is larger than 16 MB" in text(response)
    # DuckDB builds one vector of up to 1,000 rows of 1 MB before a batch reaches us.
    assert memory.growth_mb < 1300, memory.growth_mb
    print(f"huge rows: peak growth {memory.growth_mb:.0f} MB")

    with PeakMemory() as memory:
        response = run(client, HUGE_LIST)
    assert response.status_code == 400
    assert "memory that queries may use here" in text(response)
    assert memory.growth_mb < 1300, memory.growth_mb
    print(f"huge list: peak growth {memory.growth_mb:.0f} MB")

    # The CSV download has a larger cap, but a cap.
    settings.SQL_CONSOLE_EXPORT_MAX_BYTES = 32 * 2**20
    response = run(client, HUGE_ROWS, format="csv")
    assert response.status_code == 400
    assert "The result is larger than 32 MB" in text(response)
    # And the console still answers.
    assert run(client, "select 42 as answer").context["result"].rows == [(42,)]


@pytest.mark.django_db(transaction=True)
def test_nested_values_time_travel_share_links_and_history(client, sakila_lake):
    first = sakila_lake(scale=0.02, seed=11)
    make_desk_changes()
    second = run_pipeline()
    client.force_login(make_role_user(MANAGER))

    # Lists, structs and maps: shown and exported as text.
    sql = (
        "select [1, 2] as l, {'a': 1} as s, map([1], ['x']) as m, "
        "list(store_id order by store_id) as stores from dim_store"
    )
    response = run(client, sql)
    assert response.status_code == 200
    assert response.context["result"].rows == [("[1, 2]", "{'a': 1}", "{1=x}", "[1, 2]")]
    rows = list(csv.reader(io.StringIO(run(client, sql, format="csv").content.decode())))
    assert rows == [["l", "s", "m", "stores"], ["[1, 2]", "{'a': 1}", "{1=x}", "[1, 2]"]]

    # Ids and date keys as they are, money as money.
    response = run(
        client,
        "select rental_id, date_sales_id, amount from fact_sales order by rental_id desc limit 1",
    )
    row = response.context["table"][0]
    [latest] = lake_query(
        "select rental_id, date_sales_id, amount from fact_sales order by rental_id desc limit 1"
    )
    assert row[0][0] == str(latest["rental_id"]) and row[1][0] == str(latest["date_sales_id"])
    assert row[2][0] == f"${latest['amount']:,.2f}"

    # As of an earlier run: that run's rows; the link to share names both.
    count = "select count(*) as n from fact_sales"
    now = run(client, count)
    before = run(client, count, as_of_run=first.pk)
    assert now.context["result"].rows != before.context["result"].rows
    assert before.context["result"].rows == [(lake_query(count, first.snapshots)[0]["n"],)]
    assert now.context["result"].rows == [(lake_query(count, second.snapshots)[0]["n"],)]
    share = before.context["share_url"]
    assert f"as_of_run={first.pk}" in share and "sql=select+count" in share
    # The link fills the editor and the run, and runs nothing until asked.
    shared = client.get(share)
    assert "result" not in shared.context and shared.context["from_link"]
    assert shared.context["sql"] == count and shared.context["as_of_run"] == str(first.pk)
    assert f"as of run {first.pk}" in text(before)
    assert run(client, count, as_of_run=999999).status_code == 400

    # The user's last queries, newest first, without repeats; another user has none.
    history = client.get(CONSOLE).context["history"]
    assert history[0] == count and history.count(count) == 1 and sql in history
    assert len(history) <= console.HISTORY_LENGTH
    client.force_login(make_role_user(MANAGER, username="another-manager"))
    assert client.get(CONSOLE).context["history"] == []


@pytest.mark.django_db
def test_a_link_never_runs_a_query(lake, client):
    """A link from anywhere (a GET, no CSRF token) fills the editor and waits: only
    the page's form, POSTed with its CSRF token, runs a query."""
    client.force_login(make_role_user(MANAGER))
    sql = "select count(*) as n from dim_store"
    response = client.get(CONSOLE, {"sql": sql, "format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert "result" not in response.context and response.context["sql"] == sql
    assert "read it, then press Run" in text(response)
    assert console.console_history_list(client.session) == []  # nothing ran

    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(make_role_user(MANAGER, username="manager-2"))
    assert guarded.post(CONSOLE, {"sql": sql}).status_code == 403  # no CSRF token
