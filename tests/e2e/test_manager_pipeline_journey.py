"""Journey 2, the manager: run the pipeline from the control panel, watch the
step timeline update live to success without reloading the page, and find
the clerk's new rental counted in the sales-by-month report. Then start a
full run and cancel it: the Cancel button keeps its focus while the page
updates, and asks first."""

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

from tests.e2e.people import (
    CLERK,
    MANAGER,
    Person,
    customer_id_by_name,
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

# The clerk's rental is dated this many days back: a month no other journey
# rents in (they use the last fortnight and 100 days back).
RENTED_DAYS_AGO = 60


def test_manager_runs_the_pipeline_and_finds_the_clerks_rental(new_person) -> None:
    manager = new_person()
    page = manager.page
    manager.log_in(*MANAGER)
    wait_for_lake_idle(manager)

    rented_at = days_ago(RENTED_DAYS_AGO)
    month = f"{rented_at:%Y-%m}"
    open_report(manager, "Sales by month")
    before = read_report_table(page).row(month) or {"rentals": "0", "revenue": "0"}
    manager.shoot("sales-by-month-before")

    clerk = new_person()
    clerk.log_in(*CLERK)
    open_desk(clerk)
    customer_id = customer_id_by_name(clerk.page, "smith")
    rented = rent(clerk, customer=customer_id, film_index=-1, rented_at=lambda film: rented_at)
    clerk.shoot("clerk-rents")

    run = run_pipeline(manager, screenshot="run")
    # Still on the run's page: its duration is shown once it has ended.
    expect(page.locator("#run-live")).to_contain_text(re.compile(r"Duration\s*\d+\.\d s"))
    if not run.triggered_here:  # the desk's own refresh was first: let the lake catch up
        wait_for_lake_idle(manager)
    assert run.states[-1]["status"] == "succeeded", run.states[-1]
    assert all(step.endswith(": succeeded") for step in run.states[-1]["steps"])
    # The page changed in place, several times, while the run went on.
    assert run.navigations == 0 and run.same_document
    assert len(run.states) >= 2, run.states
    assert run.states[0]["status"] in ("queued", "running"), run.states[0]
    assert len(run.states[0]["steps"]) < len(run.states[-1]["steps"]), (
        run.states[0],
        run.states[-1],
    )

    open_report(manager, "Sales by month")
    expect(page.locator(".as-of")).to_contain_text("Data as of run")
    after = read_report_table(page).row(month)
    manager.shoot("sales-by-month-after")
    assert after is not None, f"no {month} row after the run"
    assert number(after["rentals"]) == number(before["rentals"]) + 1
    assert number(after["revenue"]) == number(before["revenue"]) + rented.film.rate

    cancel_a_full_run(manager)


def cancel_a_full_run(manager: Person) -> None:
    """Start a full run; on its page Cancel stays focused through the live updates,
    asks first (declined: the run goes on), then cancels it."""
    page = manager.page
    wait_for_lake_idle(manager)
    page.locator("input[name=mode][value=full]").check()
    manager.click_through(page.get_by_role("button", name="Run now"))
    run_id = re.search(r"/lake/runs/(\d+)/$", page.url)[1]
    cancel = page.get_by_role("button", name="Cancel run")
    expect(cancel).to_be_visible()
    cancel.focus()
    status = page.locator("#run-live h1 .badge")
    expect(page.locator("#run-progress[hx-get]")).to_have_count(1)
    page.wait_for_timeout(2_500)  # two live updates or more
    if status.inner_text() in ("queued", "running"):
        expect(cancel).to_be_focused()

        asked = []
        page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
        navigations = manager.navigations
        cancel.click()
        page.wait_for_timeout(500)
        assert asked == [
            f"Cancel run {run_id}? It stops at its next step and publishes nothing: "
            "the lake stays as it was."
        ]
        assert manager.navigations == navigations  # declined: nothing sent

    if status.inner_text() in ("queued", "running"):
        page.once("dialog", lambda dialog: dialog.accept())
        try:
            manager.click_through(cancel)
        except PlaywrightTimeoutError:
            # The run ended between the look and the click (a full run takes about 3 s
            # here): its Cancel button went with it.
            expect(status).to_have_text(re.compile("succeeded|failed"))
        else:
            expect(page.get_by_role("status")).to_contain_text(
                re.compile(
                    rf"Cancel requested: run {run_id} stops|Run {run_id} cancelled|"
                    rf"Run {run_id} is (succeeded|failed)"
                )
            )
            manager.shoot("run-cancel-asked")
    expect(status).to_have_text(re.compile("cancelled|succeeded|failed"), timeout=180_000)
    # Once ended, the buttons follow: Cancel is gone.
    expect(page.get_by_role("button", name="Cancel run")).to_have_count(0)
    manager.check()
    manager.shoot(f"run-{status.inner_text()}")
