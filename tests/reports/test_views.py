"""The report pages (/reports/): dashboard, one page per report, CSV export."""

import csv
import io
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.core.cache import cache
from django.db.models import Sum
from django.urls import reverse
from django.utils.html import strip_tags

from rentals.formatting import money as money_text
from rentals.models import Payment, Rental
from reports.charts import report_charts
from reports.registry import ERROR_BAD_DATE, ERROR_END_BEFORE_START, Chart
from sakila_site.roles import MANAGER
from tests.conftest import make_role_user
from tests.lake.conftest import money, run_pipeline
from tests.lake.test_incremental import make_desk_changes

DASHBOARD = reverse("reports:dashboard")
SALES_BY_STORE = reverse("reports:report", args=["sales_by_store"])
SALES_BY_MONTH = reverse("reports:report", args=["sales_by_month"])

pytestmark = pytest.mark.usefixtures("empty_cache")


def text(response) -> str:
    """The page's words, without tags, whitespace made single spaces."""
    return " ".join(unescape(strip_tags(response.content.decode())).split())


def oltp_figures(*, start: date | None = None, end: date | None = None, store=None) -> dict:
    """The dashboard's figures, computed on the rental database."""
    rentals = Rental.objects.all()
    if start:
        rentals = rentals.filter(rental_date__gte=datetime.combine(start, time.min))
    if end:
        rentals = rentals.filter(rental_date__lt=datetime.combine(end + timedelta(1), time.min))
    if store:
        rentals = rentals.filter(inventory__store_id=store)
    payments = Payment.objects.filter(rental__in=rentals)
    revenue = payments.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    return {
        "revenue": money(revenue),
        "rentals": rentals.count(),
        "active_customers": rentals.values("customer").distinct().count(),
    }


def page_figures(response) -> dict:
    figures = response.context["figures"]
    return {
        "revenue": money(figures["revenue"]),
        "rentals": figures["rentals"],
        "active_customers": figures["active_customers"],
    }


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


# --- Who may see them -------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_users_go_to_the_login_page(client):
    for url in (DASHBOARD, SALES_BY_STORE, reverse("reports:csv", args=["sales_by_store"])):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


@pytest.mark.django_db
def test_clerks_may_not_see_reports(client, clerk, lake):
    client.force_login(clerk)
    for url in (DASHBOARD, SALES_BY_STORE, reverse("reports:csv", args=["sales_by_store"])):
        assert client.get(url).status_code == 403


@pytest.mark.django_db
def test_an_empty_lake_says_run_the_pipeline(client, manager, lake):
    client.force_login(manager)
    for url in (DASHBOARD, SALES_BY_STORE):
        response = client.get(url)
        assert response.status_code == 200
        assert "The lake has no data yet: run the pipeline" in text(response)
        assert f'href="{reverse("lake:runs")}"' in response.content.decode()


@pytest.mark.django_db
def test_an_unknown_report_is_not_found(client, manager, lake):
    client.force_login(manager)
    assert client.get(reverse("reports:report", args=["no_such_report"])).status_code == 404
    assert client.get(reverse("reports:csv", args=["no_such_report"])).status_code == 404


# --- With a lake ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_report_pages_on_a_real_lake(client, sakila_lake):
    """Dashboard figures, filters, a report's page, CSV, refresh and time travel (one lake,
    two runs, to keep the suite fast)."""
    first = sakila_lake(scale=0.02, seed=11)
    client.force_login(make_role_user(MANAGER))

    # The dashboard: the whole history, then a period, then a store; as the rental database.
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    assert page_figures(response) == oltp_figures()
    page = text(response)
    assert f"Data as of run {first.pk}" in page
    html = response.content.decode()
    assert html.count('data-echart="') == 2  # the small charts, drawn by ECharts
    assert "vendor/echarts/echarts.min.js" in html
    for name in ("sales_by_store", "sales_by_month", "top_films"):
        assert reverse("reports:report", args=[name]) in html

    first_day = Rental.objects.order_by("rental_date").first().rental_date.date()
    start, end = first_day, first_day + timedelta(days=20)
    response = client.get(DASHBOARD, {"start": start, "end": end})
    assert response.status_code == 200
    assert page_figures(response) == oltp_figures(start=start, end=end)
    assert page_figures(response) != oltp_figures()
    response = client.get(DASHBOARD, {"store": 1})
    assert page_figures(response) == oltp_figures(store=1)
    assert page_figures(response) != oltp_figures()

    # Bad dates: 400 with the message, on the dashboard and a report.
    response = client.get(DASHBOARD, {"start": "2005-13-01"})
    assert response.status_code == 400
    assert ERROR_BAD_DATE.format(value="2005-13-01") in text(response)
    response = client.get(SALES_BY_MONTH, {"start": "2005-07-01", "end": "2005-06-01"})
    assert response.status_code == 400
    message = ERROR_END_BEFORE_START.format(start=date(2005, 7, 1), end=date(2005, 6, 1))
    assert message in text(response)
    assert client.get(SALES_BY_STORE, {"as_of_run": "999999"}).status_code == 400

    # A report's page: chart, table, as of, cache age, SQL; filters applied.
    cache.clear()  # the dashboard's charts ran sales_by_store with these filters
    response = client.get(SALES_BY_STORE)
    assert response.status_code == 200
    page = text(response)
    result = response.context["result"]
    assert result.run_id == first.pk and not result.from_cache
    assert 'data-echart="' in response.content.decode() and "Computed just now" in page
    assert "an earlier run" not in page
    assert f"Data as of run {first.pk}" in page
    assert "The SQL behind this report" in page and "from fact_sales" in page
    all_stores = sum(row["total_sales"] for row in result.rows)
    assert money(all_stores) == oltp_figures()["revenue"]
    filtered = client.get(SALES_BY_STORE, {"start": start, "end": end}).context["result"]
    assert (
        money(sum(row["total_sales"] for row in filtered.rows))
        == oltp_figures(start=start, end=end)["revenue"]
    )
    assert filtered.rows != result.rows

    # The cache, and the refresh button recomputing it.
    response = client.get(SALES_BY_STORE)
    assert response.context["result"].from_cache
    assert "From the cache: computed" in text(response)
    cached_at = response.context["result"].cached_at
    response = client.post(f"{SALES_BY_STORE}?start={start}")
    assert response.status_code == 302 and response.url == f"{SALES_BY_STORE}?start={start}"
    response = client.post(SALES_BY_STORE)
    assert response.status_code == 302
    refreshed = client.get(SALES_BY_STORE).context["result"]
    assert refreshed.cached_at > cached_at and refreshed.rows == result.rows

    # CSV: a header row, then the rows and columns shown; filters and run in the name
    # and the X-Report-* headers.
    response = client.get(
        reverse("reports:csv", args=["sales_by_month"]), {"start": start, "end": end}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"sales_by_month_{start}_to_{end}_run-{first.pk}.csv" in response["Content-Disposition"]
    assert response["X-Report-Filters"] == f"rentals from {start} to {end}, all stores"
    assert response["X-Report-Run"].startswith(f"{first.pk}, finished ")
    shown = client.get(SALES_BY_MONTH, {"start": start, "end": end}).context["result"]
    lines = csv_rows(response)
    assert lines[0] == shown.columns
    assert lines[1:] == [[str(row[c]) for c in shown.columns] for row in shown.rows]
    # The page's export link names the run the page shows (see after the second run).
    html = client.get(SALES_BY_MONTH, {"start": start, "end": end}).content.decode()
    export_url = unescape(re.search(r'href="([^"]+)" download>Export CSV', html)[1])
    assert f"as_of_run={first.pk}" in export_url
    response = client.get(reverse("reports:csv", args=["sales_by_month"]), {"end": "junk"})
    assert response.status_code == 400

    # Time travel: new rentals, a second run; as of the first run shows the old total.
    make_desk_changes()
    second = run_pipeline()
    exported = csv_rows(client.get(export_url))  # a page shown before the run: its rows
    assert exported == lines
    now = client.get(SALES_BY_STORE).context["result"]
    assert now.run_id == second.pk
    assert money(sum(row["total_sales"] for row in now.rows)) == oltp_figures()["revenue"]
    assert now.rows != result.rows
    response = client.get(SALES_BY_STORE, {"as_of_run": first.pk})
    assert response.status_code == 200
    before = response.context["result"]
    assert before.run_id == first.pk and before.rows == result.rows
    page = text(response)
    assert f"Data as of run {first.pk}" in page and "an earlier run" in page
    assert f'<option value="{first.pk}" selected>' in response.content.decode()
    assert f'<option value="{second.pk}">' in response.content.decode()
    assert "an earlier run" not in text(client.get(SALES_BY_STORE, {"as_of_run": second.pk}))
    dashboard = client.get(DASHBOARD)
    assert page_figures(dashboard) == oltp_figures()
    assert f"Data as of run {second.pk}" in text(dashboard)


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_every_report_page_renders(client, sakila_lake):
    sakila_lake(scale=0.02, seed=11)
    client.force_login(make_role_user(MANAGER))
    from reports.registry import REPORTS

    for name, report in REPORTS.items():
        response = client.get(reverse("reports:report", args=[name]))
        assert response.status_code == 200, name
        assert report.title in text(response)
        assert response.context["result"].rows, name
        assert response.context["charts"] or report.chart is None, name
        export = client.get(reverse("reports:csv", args=[name]))
        assert export.status_code == 200
        assert len(csv_rows(export)) == 1 + len(response.context["result"].rows)


def test_bar_charts_are_echarts_specs_with_formats_and_drill_urls():
    rows = [{"name": "a", "revenue": Decimal("3.00")}, {"name": "b", "revenue": Decimal("1.50")}]
    [chart] = report_charts(
        Chart("bar", "name", ("revenue",)), ["name", "revenue"], rows, ["/a/", None]
    )
    assert chart.option["yAxis"]["data"] == ["a", "b"]
    [series] = chart.option["series"]
    assert series["format"] == "money" and chart.option["xAxis"]["format"] == "money"
    assert series["data"] == [{"value": 3.0, "url": "/a/"}, {"value": 1.5}]
    assert chart.rows == [["a", "$3.00"], ["b", "$1.50"]]  # the data table under it
    assert chart.alt.startswith("Revenue: bar chart of 2 values; highest a ($3.00)")
    assert report_charts(Chart("bar", "name", ("revenue",)), ["name", "revenue"], []) == []


def test_a_time_chart_shows_gaps_as_gaps():
    """2026-12 is not drawn right after 2006-02: the months between are empty."""
    rows = [
        {"month": "2006-01", "rentals": 10, "revenue": Decimal("20.00")},
        {"month": "2006-02", "rentals": 5, "revenue": Decimal("9.50")},
        {"month": "2026-12", "rentals": 1, "revenue": Decimal("2.99")},
    ]
    [chart] = report_charts(
        Chart("time", "month", ("revenue", "rentals")), ["month", "rentals", "revenue"], rows
    )
    option = chart.option
    assert option["xAxis"]["type"] == "time"
    revenue, rentals = option["series"]
    points = [point["value"] for point in revenue["data"]]
    assert points[0] == ["2006-01-01", 20.0] and points[1] == ["2006-02-01", 9.5]
    assert points[2] == ["2006-03-01", None] and points[-1] == ["2026-12-01", 2.99]
    assert len(points) == 12 * 20 + 12 and revenue["connectNulls"] is False
    assert [axis["format"] for axis in option["yAxis"]] == ["money", "number"]
    assert rentals["yAxisIndex"] == 1 and option["legend"]["data"] == ["Revenue", "Rentals"]
    assert chart.rows == [
        ["2006-01", "$20.00", "10"],
        ["2006-02", "$9.50", "5"],
        ["2026-12", "$2.99", "1"],
    ]


def test_a_chart_with_a_limit_draws_the_first_rows_and_says_so():
    rows = [{"name": f"customer {n}", "v": Decimal(100 - n)} for n in range(30)]
    [chart] = report_charts(Chart("bar", "name", ("v",), limit=20), ["name", "v"], rows)
    assert chart.option["yAxis"]["data"] == [f"customer {n}" for n in range(20)]
    assert chart.note == "The first 20 of 30 rows; the table lists them all."
    [whole] = report_charts(Chart("bar", "name", ("v",), limit=20), ["name", "v"], rows[:20])
    assert len(whole.rows) == 20 and whole.note == ""


@pytest.mark.django_db(transaction=True)
def test_shares_read_as_percentages_on_the_page_and_stay_fractions_in_the_csv(client, sakila_lake):
    sakila_lake(scale=0.02, seed=11)
    client.force_login(make_role_user(MANAGER))
    late_returns = reverse("reports:report", args=["late_returns_by_category"])

    response = client.get(late_returns)

    result = response.context["result"]
    first = result.rows[0]
    share_column = result.columns.index("late_share")
    cell = response.context["table"][0][share_column]
    assert (cell.text, cell.number) == (f"{first['late_share']:.1%}", True)
    chart = response.context["charts"][0]
    assert chart.option["series"][0]["format"] == "percent"
    assert chart.rows[0][1] == f"{first['late_share']:.1%}"
    export = csv_rows(client.get(reverse("reports:csv", args=["late_returns_by_category"])))
    header = export[0]
    exported = next(row for row in export if row and row[0] == first["category"])
    assert float(exported[header.index("late_share")]) == pytest.approx(first["late_share"])


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_sorting_and_drill_through_on_every_report(client, sakila_lake):
    run = sakila_lake(scale=0.02, seed=11)
    client.force_login(make_role_user(MANAGER))
    from reports.registry import REPORTS

    for name, report in REPORTS.items():
        url = reverse("reports:report", args=[name])
        result = client.get(url).context["result"]
        # Every column sorts, both ways, empty cells last; the export follows the sort.
        for column in result.columns:
            for sort, descending in ((column, False), (f"-{column}", True)):
                response = client.get(url, {"sort": sort})
                values = [row[column] for row in response.context["rows"]]
                present = [value for value in values if value is not None]
                assert present == sorted(present, reverse=descending), (name, sort)
                assert values[len(present) :] == [None] * (len(values) - len(present))
        header = client.get(url, {"sort": f"-{result.columns[-1]}"}).context["headers"][-1]
        assert header.sort == "descending" and header.sort_value == result.columns[-1]
        exported = csv_rows(
            client.get(reverse("reports:csv", args=[name]), {"sort": f"-{result.columns[-1]}"})
        )
        shown = client.get(url, {"sort": f"-{result.columns[-1]}"}).context["rows"]
        assert exported[1:] == [
            ["" if row[c] is None else str(row[c]) for c in result.columns] for row in shown
        ]
        # Each drill column links every row that has a key, and the link answers.
        response = client.get(url)
        for drill in report.drills:
            index = result.columns.index(drill.column)
            links = [row[index].url for row in response.context["table"]]
            assert all(links), (name, drill.column)
            assert client.get(links[0]).status_code == 200, (name, links[0])

    # A month opens its days, which add up to it.
    months = client.get(SALES_BY_MONTH).context
    month_row = months["rows"][1]
    days_url = months["table"][1][0].url
    days = client.get(days_url).context["result"]
    assert sum(row["rentals"] for row in days.rows) == month_row["rentals"]
    assert sum(row["revenue"] for row in days.rows) == month_row["revenue"]
    assert {str(row["day"])[:7] for row in days.rows} == {month_row["month"]}
    # A day opens its rentals.
    day_url = client.get(days_url).context["table"][0][0].url
    day_rentals = client.get(day_url).context["result"].rows
    assert len(day_rentals) == days.rows[0]["rentals"]
    # A film of Top films opens its rentals; a customer their page with rentals and payments.
    films = client.get(reverse("reports:report", args=["top_films"])).context
    rentals = client.get(films["table"][0][2].url).context["result"].rows
    assert len(rentals) == films["rows"][0]["rentals"]
    assert {row["film_id"] for row in rentals} == {films["rows"][0]["film_id"]}
    customers = client.get(reverse("reports:report", args=["top_customers"])).context
    page = client.get(customers["table"][0][2].url)
    top = customers["rows"][0]
    assert page.status_code == 200 and top["customer"] in text(page)
    rentals_list, payments_list = page.context["lists"]
    assert (
        len(rentals_list["result"].rows)
        == Rental.objects.filter(customer_id=top["customer_id"]).count()
    )
    assert (
        len(payments_list["result"].rows)
        == Payment.objects.filter(customer_id=top["customer_id"]).count()
    )
    assert client.get(reverse("reports:customer", args=[999999])).status_code == 404
    # As of an earlier run, the links keep the run.
    travelled = client.get(SALES_BY_MONTH, {"as_of_run": run.pk}).context["table"][0][0].url
    assert f"as_of_run={run.pk}" in travelled


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_the_dashboard_compares_with_the_period_before_and_travels_in_time(client, sakila_lake):
    first = sakila_lake(scale=0.02, seed=11)
    client.force_login(make_role_user(MANAGER))
    first_day = Rental.objects.order_by("rental_date").first().rental_date.date()
    start, end = first_day + timedelta(days=20), first_day + timedelta(days=39)
    response = client.get(DASHBOARD, {"start": start, "end": end})
    previous = response.context["previous"]
    assert (previous["start"], previous["end"]) == (first_day, first_day + timedelta(days=19))
    before = oltp_figures(start=previous["start"], end=previous["end"])
    now = oltp_figures(start=start, end=end)
    rentals = previous["figures"]["rentals"]
    assert rentals["previous"] == before["rentals"]
    assert rentals["change"] == round(
        (now["rentals"] - before["rentals"]) / before["rentals"] * 100, 1
    )
    assert "compared with the 20 days before" in text(response)
    assert money(response.context["figures"]["revenue"]) == now["revenue"]
    html = response.content.decode()
    assert f'data-figure="revenue">{money_text(now["revenue"])}<' in html

    make_desk_changes()
    run_pipeline()
    latest = client.get(DASHBOARD)
    earlier = client.get(DASHBOARD, {"as_of_run": first.pk})
    assert f"Data as of run {first.pk}" in text(earlier) and "an earlier run" in text(earlier)
    assert earlier.context["figures"]["rentals"] < latest.context["figures"]["rentals"]
    assert "an earlier run" not in text(latest)
