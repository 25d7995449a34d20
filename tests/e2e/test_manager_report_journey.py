"""Journey 3, the manager and the reports: sort a report's column, drill from a
month to its days and from a film to its rentals, filter by store and dates
(the chart and the table change), export it (the CSV's header and rows are
the table's), show it as of the run before the latest one, and time-travel
the dashboard."""

import calendar
import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.e2e.people import (
    CLERK,
    MANAGER,
    Person,
    ReportTable,
    chart_marks,
    customer_id_by_name,
    data_as_of_run,
    days_ago,
    number,
    open_desk,
    open_report,
    read_report_table,
    rent,
    run_pipeline,
    wait_for_lake_idle,
)

pytestmark = pytest.mark.e2e

REPORT = "Sales by month"
# The clerk's rental is dated this many days back: a month no other journey
# rents in (they use the last fortnight and 60 days back).
RENTED_DAYS_AGO = 100


def month_range(first_month: str, last_month: str) -> tuple[str, str]:
    """The first day of one "YYYY-MM" month and the last day of another."""
    year, month = map(int, last_month.split("-"))
    last_day = calendar.monthrange(year, month)[1]
    return f"{first_month}-01", date(year, month, last_day).isoformat()


def as_figures(table: ReportTable) -> list[list[str]]:
    """Rows with numbers written plainly (the page writes 1,234.50; the CSV 1234.5)."""
    return [
        [cells[0], *(str(number(cell).normalize()) for cell in cells[1:])] for cells in table.rows
    ]


def clerk_rents_a_film(new_person, rented_at) -> None:
    clerk: Person = new_person()
    clerk.log_in(*CLERK)
    open_desk(clerk)
    customer_id = customer_id_by_name(clerk.page, "garcia")
    rent(clerk, customer=customer_id, film_index=-2, rented_at=lambda film: rented_at)


def test_manager_filters_exports_and_looks_back_a_run(new_person) -> None:
    manager = new_person()
    page = manager.page
    manager.log_in(*MANAGER)
    wait_for_lake_idle(manager)
    open_report(manager, REPORT)
    earlier_run = data_as_of_run(page)
    earlier = read_report_table(page)
    assert earlier.columns == ["month", "rentals", "revenue"]

    # The business goes on: a rental, then a run, so the latest run differs.
    rented_at = days_ago(RENTED_DAYS_AGO)
    month = f"{rented_at:%Y-%m}"
    clerk_rents_a_film(new_person, rented_at)
    run = run_pipeline(manager)
    assert run.states[-1]["status"] == "succeeded"
    if not run.triggered_here:  # the desk's own refresh was first: let the lake catch up
        wait_for_lake_idle(manager)

    open_report(manager, REPORT)
    latest_run = data_as_of_run(page)
    assert latest_run > earlier_run
    everything = read_report_table(page)
    assert (
        number(everything.row(month)["rentals"])
        == number((earlier.row(month) or {"rentals": "0"})["rentals"]) + 1
    )
    assert chart_marks(page, "Revenue") == [f"{r[0]}: {r[2]}" for r in everything.rows]
    manager.shoot("report")

    # Sort by revenue (largest first), then back: the table follows.
    manager.click_through(page.get_by_role("link", name="Revenue", exact=True))
    expect(page.locator("th[aria-sort='descending']")).to_have_attribute("title", "revenue")
    by_revenue = read_report_table(page)
    revenues = [number(cells[2]) for cells in by_revenue.rows]
    assert revenues == sorted(revenues, reverse=True)
    assert sorted(by_revenue.rows) == sorted(everything.rows)
    manager.shoot("sorted")

    # Drill from the clerk's month to its days: they add up to the month.
    manager.click_through(page.get_by_role("link", name=month, exact=True))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sales by day")
    days = read_report_table(page)
    assert days.columns[:2] == ["day", "day_name"]
    assert all(cells[0].startswith(month) for cells in days.rows)
    month_row = everything.row(month)
    assert sum(number(cells[days.columns.index("rentals")]) for cells in days.rows) == number(
        month_row["rentals"]
    )
    assert chart_marks(page, "Rentals") == [
        f"{cells[0]}: {cells[days.columns.index('rentals')]}" for cells in days.rows
    ]
    manager.shoot("month-days")

    # From a film of Top films to its rentals.
    open_report(manager, "Top films")
    films = read_report_table(page)
    film = films.rows[0][films.columns.index("title")]
    film_rentals = number(films.rows[0][films.columns.index("rentals")])
    manager.click_through(page.get_by_role("link", name=film, exact=True).first)
    expect(page.get_by_role("heading", level=1)).to_have_text("Rentals")
    rentals = read_report_table(page)
    assert len(rentals.rows) == film_rentals
    assert {cells[rentals.columns.index("film")] for cells in rentals.rows} == {film}
    manager.shoot("film-rentals")
    open_report(manager, REPORT)

    # Filter: the first store, the second to fourth months of the table.
    start, end = month_range(everything.rows[1][0], everything.rows[3][0])
    page.get_by_label(re.compile(r"^From")).fill(start)
    page.get_by_label(re.compile(r"^To")).fill(end)
    store = page.get_by_label(re.compile(r"^Store"))
    store.select_option(index=1)
    store_name = store.locator("option:checked").inner_text()  # "1: city, country"
    manager.click_through(page.get_by_role("button", name="Show"))
    expect(page.get_by_text("Showing rentals from")).to_have_text(
        f"Showing rentals from {start} to {end}, store {store_name.replace(': ', ' (')})."
    )
    filtered = read_report_table(page)
    shown_run = data_as_of_run(page)  # the export is of this run, whatever ran since
    assert [cells[0] for cells in filtered.rows] == [cells[0] for cells in everything.rows[1:4]]
    for cells in filtered.rows:  # one store's share of each month
        whole = everything.row(cells[0])
        assert 0 < number(cells[1]) < number(whole["rentals"])
        assert 0 < number(cells[2]) < number(whole["revenue"])
    revenue_marks = chart_marks(page, "Revenue")
    assert revenue_marks == [f"{r[0]}: {r[2]}" for r in filtered.rows]
    assert chart_marks(page, "Rentals") == [f"{r[0]}: {r[1]}" for r in filtered.rows]
    manager.shoot("filtered")

    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    name = download.value.suggested_filename
    assert name == f"sales_by_month_{start}_to_{end}_store-1_run-{shown_run}.csv", name
    lines = list(csv.reader(io.StringIO(download.value.path().read_text())))
    header, *rows = lines
    assert header == filtered.columns
    plain = [
        [cells[0], *(str(Decimal(value).normalize()) for value in cells[1:])] for cells in rows
    ]
    assert plain == as_figures(filtered)

    # As of the run shown before the rental: that run's figures, marked as earlier.
    manager.click_through(page.get_by_role("link", name="Clear filters"))
    as_of = page.get_by_label(re.compile(r"^As of"))
    as_of.select_option(label=as_of.locator("option", has_text=f"Run {earlier_run},").inner_text())
    manager.click_through(page.get_by_role("button", name="Show"))
    assert data_as_of_run(page) == earlier_run
    expect(page.locator(".as-of")).to_contain_text("an earlier run")
    assert read_report_table(page) == earlier
    assert chart_marks(page, "Revenue") == [f"{r[0]}: {r[2]}" for r in earlier.rows]
    manager.shoot("as-of-earlier-run")

    # The dashboard, as of the same earlier run: its figures, marked as earlier.
    manager.click_through(
        page.get_by_role("navigation", name="Reports").get_by_role("link", name="Dashboard")
    )
    assert data_as_of_run(page) > earlier_run
    latest = number(page.locator("[data-figure='rentals']").inner_text())
    as_of = page.get_by_label(re.compile(r"^As of"))
    as_of.select_option(label=as_of.locator("option", has_text=f"Run {earlier_run},").inner_text())
    manager.click_through(page.get_by_role("button", name="Show"))
    expect(page.locator(".as-of")).to_contain_text("an earlier run")
    assert data_as_of_run(page) == earlier_run
    assert number(page.locator("[data-figure='rentals']").inner_text()) < latest
    # A period: compared with the one before it.
    manager.click_through(page.get_by_role("link", name="the last 30 days of data"))
    expect(page.locator("[data-change]").first).to_contain_text("before")
    assert data_as_of_run(page) == earlier_run
    manager.shoot("dashboard-as-of-earlier-run")
