"""Journey 1, the clerk: rent to a customer found by email, return it late in
the next session, leave the late fee owed on the account and see it on the
customer's page, then take it; the manager's receivables move by exactly
that payment after the next run. Then meet a film with no free copy
(another desk took the last one)."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.e2e.people import (
    CLERK,
    MANAGER,
    Person,
    choose_film,
    days_ago,
    film_list,
    number,
    open_desk,
    open_report,
    read_report_table,
    rent,
    run_pipeline,
    type_customer,
    wait_for_lake_idle,
)

pytestmark = pytest.mark.e2e

DAYS_LATE = 2  # kept two days past its rental duration: $1 a day (under the cap)
LATE_FEE = Decimal("1.00") * DAYS_LATE
MOST_COPIES = 20  # no film has this many copies at one store


def find_customer_email(clerk: Person, name: str) -> str:
    """The desk's customer search by name; the email of the first active match."""
    page = clerk.page
    page.get_by_label("Id, email or name").fill(name)
    matches = page.locator("#customer-search-results li").filter(has_not_text="inactive")
    expect(matches.first).to_be_visible()
    return re.search(r"· (\S+@\S+) ·", matches.first.inner_text())[1]


def lookup_by_keyboard(clerk: Person) -> None:
    """The rent form's customer combobox: ArrowDown moves through the matches, Enter
    picks the active one (its id in the field, on to the film) and never submits the
    half-filled form; Escape closes the list. "Find a customer" pages its matches."""
    page = clerk.page
    field = page.get_by_label("Customer", exact=True)
    field.fill("smith")
    options = page.get_by_role("listbox", name="Matching customers").get_by_role("option")
    expect(options.first).to_be_visible()
    expect(field).to_have_attribute("aria-expanded", "true")
    field.press("Enter")  # nothing chosen yet: no submit
    assert page.url.endswith("/desk/") and field.input_value() == "smith"
    field.press("ArrowDown")
    field.press("ArrowDown")
    second = options.nth(1)
    expect(second).to_have_attribute("aria-selected", "true")
    expect(field).to_have_attribute("aria-activedescendant", second.get_attribute("id"))
    clerk.shoot("lookup-by-keyboard")
    wanted = second.get_attribute("data-value")
    navigations = clerk.navigations
    field.press("Enter")
    expect(field).to_have_value(wanted)
    expect(page.get_by_role("listbox", name="Matching customers")).to_have_count(0)
    expect(page.get_by_label("Search films by title")).to_be_focused()
    assert clerk.navigations == navigations  # picked, not submitted
    field.fill("smith")
    expect(options.first).to_be_visible()
    field.press("Escape")
    expect(options).to_have_count(0)
    field.fill("")

    # A name with many matches: ten at a time, and the next ones.
    search = page.get_by_label("Id, email or name")
    search.fill("a")
    count = page.locator("#customer-search-results .match-count")
    expect(count).to_have_text(re.compile(r"^\d+ matches, showing 1\u201310$"))
    total = int(count.inner_text().split()[0])
    results = page.locator("#customer-search-results")
    results.get_by_role("link", name=re.compile(r"^Next: 11\u2013")).click()
    expect(count).to_have_text(re.compile(rf"^{total} matches, showing 11\u2013{min(20, total)}$"))
    expect(results.locator("#customer-links li")).to_have_count(min(10, total - 10))
    clerk.shoot("find-customer-page-2")
    search.press("ArrowDown")  # into the results
    expect(results.locator("#customer-links a").first).to_be_focused()
    search.fill("")


def customer_balance(page) -> Decimal:
    """The balance on a customer's page ("$12.00 owed", "$5.00 in credit",
    "nothing owed") as a number, positive when owed."""
    text = page.locator("#balance").inner_text()
    if text == "nothing owed":
        return Decimal("0.00")
    amount = number(re.search(r"\$([\d,.]+)", text)[1])
    return amount if text.endswith("owed") else -amount


def receivable_of(manager: Person, customer_id: str) -> Decimal:
    """What the customer owes in the manager's "Receivables by customer" report."""
    open_report(manager, "Receivables by customer")
    row = read_report_table(manager.page).row(customer_id)
    assert row is not None, f"customer {customer_id} is in the receivables"
    return number(row["outstanding"])


def test_clerk_rents_returns_late_and_meets_a_film_with_no_free_copy(new_person) -> None:
    clerk = new_person()
    page = clerk.page
    clerk.log_in(*CLERK)
    expect(page.get_by_role("heading", level=1)).to_have_text("Rental desk")  # lands there
    open_desk(clerk)
    expect(page.get_by_text("films with a free copy at this store")).to_be_visible()
    clerk.shoot("desk")
    lookup_by_keyboard(clerk)

    # The customer at the counter gives their email; the clerk rents them a film,
    # backdated so that it is already two days overdue.
    email = find_customer_email(clerk, "smith")
    rented = rent(
        clerk,
        customer=email,
        film_index=0,
        rented_at=lambda film: days_ago(film.days + DAYS_LATE),
    )
    expect(page.get_by_role("status")).to_contain_text(f"to {rented.customer}")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("Out")
    expect(facts).to_contain_text(f"${LATE_FEE} so far")  # accruing while out
    expect(page.locator("table.data")).to_contain_text(f"${rented.film.rate}")  # paid when renting
    clerk.shoot("rented")

    # The next session: log out, log in again, find the customer, take the film back.
    clerk.log_out()
    clerk.log_in(*CLERK)
    open_desk(clerk)
    page.get_by_label("Id, email or name").fill(email)
    clerk.click_through(page.locator("#customer-search-results").get_by_role("link"))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(rented.customer)
    customer_id = re.match(r"#(\d+)", heading.inner_text())[1]
    overdue = page.locator("section", has=page.get_by_role("heading", name=re.compile("^Overdue")))
    expect(overdue.get_by_role("row").filter(has_text=rented.film.title)).to_contain_text(
        f"${LATE_FEE}"
    )
    owed_before_return = customer_balance(page)  # the accruing fee is owed already
    out_now = page.locator("section", has=page.get_by_role("heading", name="Out now"))
    row = out_now.get_by_role("row").filter(has_text=rented.film.title)
    expect(row).to_contain_text(f"${LATE_FEE}")
    clerk.shoot("customer-with-late-rental")
    clerk.click_through(row.get_by_role("button", name="Return"))

    expect(page.get_by_role("status")).to_have_text(
        re.compile(
            rf"Returned: copy \d+ after {rented.film.days + DAYS_LATE} days, "
            rf"{DAYS_LATE} days late: late fee \${LATE_FEE} owed\."
        )
    )
    expect(page.locator("dl.facts")).to_contain_text("Returned")
    expect(page.locator("#late-fee")).to_contain_text(f"${LATE_FEE} (final)")
    # No payment was recorded for the fee: only the rate, paid when renting.
    paid = page.locator("table.data tbody")
    expect(paid.get_by_role("row")).to_have_count(1)
    offer = page.get_by_role("heading", name=f"Late fee ${LATE_FEE} owed")
    expect(offer).to_be_visible()
    expect(page.get_by_label("Amount ($)")).to_have_value(str(LATE_FEE))  # prefilled
    clerk.shoot("returned-late-fee-owed")

    # The customer will pay later: the fee stays on the account.
    clerk.click_through(page.get_by_role("link", name="Leave it on the account"))
    expect(heading).to_contain_text(rented.customer)
    assert customer_balance(page) == owed_before_return
    expect(page.locator("#balance")).to_contain_text("owed")
    expect(page.get_by_role("heading", name=re.compile("^Overdue"))).to_have_count(0)
    clerk.shoot("customer-owes-the-fee")

    # The manager's receivables before the payment.
    manager = new_person()
    manager.log_in(*MANAGER)
    wait_for_lake_idle(manager)  # then the next run has the return, whoever starts it
    run_pipeline(manager)
    receivable_before = receivable_of(manager, customer_id)
    assert receivable_before == owed_before_return

    # The customer comes back and pays the fee on account.
    page.get_by_label("Amount ($)").fill(str(LATE_FEE))
    clerk.click_through(page.get_by_role("button", name="Take payment"))
    if page.get_by_label(re.compile("keep the difference as credit")).count():
        # The customer owed less than the fee (credit from before): confirm.
        page.get_by_label(re.compile("keep the difference as credit")).check()
        clerk.click_through(page.get_by_role("button", name="Take payment"))
    expect(page.get_by_role("status")).to_contain_text(f"of ${LATE_FEE} received")
    assert customer_balance(page) == owed_before_return - LATE_FEE
    payments = page.locator("section", has=page.get_by_role("heading", name="Payments received"))
    expect(payments.get_by_role("row").nth(1)).to_contain_text("on account")
    clerk.shoot("fee-paid")

    # After the next run the receivables moved by exactly that payment.
    wait_for_lake_idle(manager)
    run_pipeline(manager)
    assert receivable_of(manager, customer_id) == receivable_before - LATE_FEE
    manager.shoot("receivables-after-payment")

    # Two desks, one film: the other desk picks it while this one rents every free copy.
    other_desk = new_person()
    other_desk.log_in(*CLERK)
    open_desk(other_desk)
    type_customer(other_desk.page, email)
    wanted = choose_film(other_desk.page, index=1)
    other_desk.shoot("other-desk-picks-a-film")

    search = page.get_by_label("Search films by title")
    for _ in range(MOST_COPIES):
        open_desk(clerk)
        search.fill(wanted.title)
        films = film_list(page)
        # The list narrows to the titles that match (or says none is free).
        expect(
            films.locator("option")
            .filter(has_not_text=wanted.title)
            .filter(has_not_text=re.compile("^(Choose a film|No free film matches)"))
        ).to_have_count(0)
        offered = films.locator("option", has_text=f"{wanted.title} (")
        if offered.count() == 0:
            break
        last = rent(
            clerk, customer=email, film_index=offered.evaluate("option => option.index") - 1
        )
    else:
        pytest.fail(f"{wanted.title} was still free after {MOST_COPIES} rentals")
    # The title search says when a copy is back and where one is free now.
    expect(films.locator("option[disabled]", has_text=wanted.title)).to_contain_text(
        re.compile(r"The first is due back on \d{4}-\d\d-\d\d \d\d:\d\d\.")
    )
    clerk.shoot("every-copy-out")

    other_desk.click_through(other_desk.page.get_by_role("button", name="Rent", exact=True))
    refusal = other_desk.page.get_by_role("alert")
    expect(refusal).to_contain_text(f"{wanted.title} has no free copy at your store.")
    expect(refusal).to_contain_text(
        re.compile(
            r"The first is due back on \d{4}-\d\d-\d\d \d\d:\d\d\. "
            r"(Free now at Store \d+ \(\d+ cop(y|ies)\)|No other store has a free copy)\."
        )
    )
    expect(refusal).to_contain_text("Pick another from the list.")
    other_desk.shoot("no-free-copy")

    # The customer brings the last copy back to the manager's store (store 2): it is
    # taken back there, and the confirmation says where it belongs.
    open_desk(manager)
    manager.page.get_by_label("Rental number").fill(str(last.number))
    manager.click_through(manager.page.get_by_role("button", name="Return", exact=True))
    expect(manager.page.get_by_role("status")).to_contain_text(
        re.compile(r"Copy \d+ belongs to Store 1: send it back\.")
    )
    manager.shoot("returned-at-another-store")
