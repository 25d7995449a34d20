"""Journey 1, the clerk: rent to a customer found by email, return it late in
the next session and read the late fee, then meet a film with no free copy
(another desk took the last one)."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.e2e.people import (
    CLERK,
    Person,
    choose_film,
    days_ago,
    film_list,
    open_desk,
    rent,
    type_customer,
)

pytestmark = pytest.mark.e2e

DAYS_LATE = 2  # kept two days past its rental duration: $1 a day (Sakila's rule)
LATE_FEE = Decimal("1.00") * DAYS_LATE
MOST_COPIES = 20  # no film has this many copies at one store


def find_customer_email(clerk: Person, name: str) -> str:
    """The desk's customer search by name; the email of the first active match."""
    page = clerk.page
    page.get_by_label("Id, email or name").fill(name)
    matches = page.locator("#customer-search-results li").filter(has_not_text="inactive")
    expect(matches.first).to_be_visible()
    return re.search(r"· (\S+@\S+) ·", matches.first.inner_text())[1]


def test_clerk_rents_returns_late_and_meets_a_film_with_no_free_copy(new_person) -> None:
    clerk = new_person()
    page = clerk.page
    clerk.log_in(*CLERK)
    open_desk(clerk)
    expect(page.get_by_text("films with a free copy at this store")).to_be_visible()
    clerk.shoot("desk")

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
    expect(facts).to_contain_text(f"late fee if returned now: ${LATE_FEE}")
    expect(page.locator("table.data")).to_contain_text(f"${rented.film.rate}")
    clerk.shoot("rented")

    # The next session: log out, log in again, find the customer, take the film back.
    clerk.log_out()
    clerk.log_in(*CLERK)
    open_desk(clerk)
    page.get_by_label("Id, email or name").fill(email)
    clerk.click_through(page.locator("#customer-search-results").get_by_role("link"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(rented.customer)
    out_now = page.locator("section", has=page.get_by_role("heading", name="Out now"))
    row = out_now.get_by_role("row").filter(has_text=rented.film.title)
    expect(row).to_contain_text(f"${LATE_FEE}")
    clerk.shoot("customer-with-late-rental")
    clerk.click_through(row.get_by_role("button", name="Return"))

    expect(page.get_by_role("status")).to_have_text(
        re.compile(
            rf"Returned: copy \d+ after {rented.film.days + DAYS_LATE} days; "
            rf"late fee \${LATE_FEE} charged\."
        )
    )
    expect(page.locator("dl.facts")).to_contain_text("Returned")
    charged = page.locator("table.data tbody")
    expect(charged.get_by_role("row")).to_have_count(2)
    expect(charged.get_by_role("row").last).to_contain_text(f"${LATE_FEE}")
    clerk.shoot("returned-late-fee")

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
        rent(clerk, customer=email, film_index=offered.evaluate("option => option.index") - 1)
    else:
        pytest.fail(f"{wanted.title} was still free after {MOST_COPIES} rentals")
    clerk.shoot("every-copy-out")

    other_desk.click_through(other_desk.page.get_by_role("button", name="Rent", exact=True))
    expect(other_desk.page.get_by_role("alert")).to_have_text(
        f"{wanted.title} has no free copy at your store; pick one from the list."
    )
    other_desk.shoot("no-free-copy")
