"""What the journeys do as a person does it: log in, visit, click through, read.

A ``Person`` is one browser context (one session) on the stack. Every page it
lands on is checked for the accessibility basics, and the journeys' screenshots
are numbered ``var/e2e/<journey>-<n>-<what>.png``. The shared steps of several
journeys (renting at the desk, running the pipeline from the control panel,
reading a report's table) are here; everything is read from the page.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

PROJECT = Path(__file__).resolve().parents[2]
SCREENSHOT_DIR = PROJECT / "var" / "e2e"
CLERK = ("clerk", "sakila-clerk")
MANAGER = ("manager", "sakila-manager")
PIPELINE_TIMEOUT_MS = 180_000  # a run takes 5-20 s here; a busy machine, more
FINISHED = ("succeeded", "failed", "cancelled")

# The accessibility basics of one page: every visible form field has a label,
# one h1, every image a text alternative, every chart (a top-level svg) is an
# image with an accessible name. Returns the problems found, in words.
ACCESSIBILITY_PROBLEMS_JS = """
() => {
  const problems = [];
  const text = (element) => (element ? element.textContent.trim() : "");
  const named_by = (element) => (element.getAttribute("aria-labelledby") || "")
    .split(/\\s+/).filter(Boolean).map((id) => text(document.getElementById(id))).join(" ").trim();
  const visible = (element) => element.getClientRects().length > 0;
  const h1s = [...document.querySelectorAll("h1")];
  if (h1s.length !== 1) {
    problems.push(`${h1s.length} h1 headings (${h1s.map(text).join(" | ")}), not one`);
  }
  for (const control of document.querySelectorAll("input, select, textarea")) {
    const type = (control.getAttribute("type") || "").toLowerCase();
    if (["hidden", "submit", "button", "reset", "image"].includes(type) || !visible(control)) {
      continue;
    }
    const byFor = control.id
      ? [...document.querySelectorAll(`label[for="${CSS.escape(control.id)}"]`)] : [];
    const labelled = byFor.some((label) => text(label))
      || text(control.closest("label"))
      || (control.getAttribute("aria-label") || "").trim()
      || named_by(control);
    if (!labelled) {
      problems.push(`a ${control.tagName.toLowerCase()} named "${control.name}" has no label`);
    }
  }
  for (const image of document.querySelectorAll("img")) {
    if (!image.hasAttribute("alt")) problems.push(`an image (${image.src}) has no alt text`);
  }
  for (const svg of document.querySelectorAll("svg")) {
    if (svg.parentElement.closest("svg") || svg.closest("[aria-hidden='true']")) continue;
    const name = (svg.getAttribute("aria-label") || "").trim() || named_by(svg)
      || text(svg.querySelector(":scope > title"));
    if (svg.getAttribute("role") !== "img" || !name) {
      problems.push(`a chart (svg) is not role="img" with a name: ${svg.outerHTML.slice(0, 80)}`);
    }
  }
  return problems;
}
"""


def check_accessibility(page: Page) -> None:
    """Fail with the page's address and its problems if it misses a basic."""
    problems = page.evaluate(ACCESSIBILITY_PROBLEMS_JS)
    assert not problems, f"Accessibility basics missing on {page.url}:\n- " + "\n- ".join(problems)


class Screens:
    """Numbered screenshots of one journey, the journey's old ones removed first."""

    def __init__(self, journey: str) -> None:
        self.journey = journey
        self.count = 0
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        for old in SCREENSHOT_DIR.glob(f"{journey}-*.png"):
            old.unlink()

    def shoot(self, page: Page, what: str) -> Path:
        self.count += 1
        path = SCREENSHOT_DIR / f"{self.journey}-{self.count}-{what}.png"
        page.screenshot(path=path, full_page=True)
        return path


@dataclass
class Person:
    """One browser session on the site. Every page it lands on gets checked."""

    page: Page
    screens: Screens
    visited: list[str] = field(default_factory=list)  # main-frame navigations
    checked: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.page.on("framenavigated", self._navigated)

    def _navigated(self, frame) -> None:
        if frame == self.page.main_frame:
            self.visited.append(frame.url)

    @property
    def navigations(self) -> int:
        return len(self.visited)

    def check(self) -> None:
        check_accessibility(self.page)
        self.checked.add(self.page.url)

    def unchecked_pages(self) -> list[str]:
        return [url for url in self.visited if url not in self.checked]

    def visit(self, path: str) -> None:
        response = self.page.goto(path)
        assert response is not None and response.ok, (
            f"{path} answered {response and response.status}"
        )
        self.check()

    def click_through(self, target: Locator) -> None:
        """Click a link or a submit button and land on the next page."""
        with self.page.expect_navigation():
            target.click()
        self.check()

    def shoot(self, what: str) -> Path:
        return self.screens.shoot(self.page, what)

    def log_in(self, username: str, password: str) -> None:
        self.visit("/accounts/login/")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password)
        self.click_through(self.page.get_by_role("button", name="Log in"))
        expect(self.page.locator("header form.logout")).to_contain_text(username)

    def log_out(self) -> None:
        self.click_through(self.page.get_by_role("button", name="Log out"))
        expect(self.page.get_by_role("heading", level=1)).to_have_text("Log in")


# --- The desk -------------------------------------------------------------------------------

FILM_OPTION = re.compile(
    r"^(?P<title>.+) \((?P<rating>[^,]+), \$(?P<rate>[\d.]+) for (?P<days>\d+) days\)$"
)


@dataclass(frozen=True)
class Film:
    """A film as the desk's film list shows it."""

    title: str
    rate: Decimal
    days: int

    @classmethod
    def from_option(cls, label: str) -> "Film":
        match = FILM_OPTION.match(label.strip())
        assert match, f"a film option reads {label!r}"
        return cls(match["title"], Decimal(match["rate"]), int(match["days"]))


@dataclass(frozen=True)
class Rented:
    number: int
    film: Film
    customer: str  # the name the desk's lookup showed
    confirmation: str


def film_list(page: Page) -> Locator:
    return page.get_by_label("Film", exact=True)


def choose_film(page: Page, *, index: int) -> Film:
    """Pick the film at ``index`` of the desk's list of free films (-1: the last)."""
    films = film_list(page)
    count = films.locator("option").count() - 1  # the first is "Choose a film"
    assert count > 0, "the desk lists no free film"
    films.select_option(index=index % count + 1)
    return Film.from_option(films.locator("option:checked").inner_text())


def days_ago(days: int) -> datetime:
    """A backdated rental date, to the minute (the desk's field has no seconds)."""
    return (datetime.now() - timedelta(days=days)).replace(second=0, microsecond=0)


def open_desk(clerk: Person) -> None:
    clerk.click_through(
        clerk.page.get_by_role("navigation", name="Main").get_by_role("link", name="Rental desk")
    )
    expect(clerk.page.get_by_role("heading", level=1)).to_have_text("Rental desk")


def type_customer(page: Page, customer: str) -> str:
    """Type a customer id or email in the rent form; the live lookup shows who it
    is. Returns the name shown."""
    page.get_by_label("Customer", exact=True).fill(customer)
    match = page.locator("#customer-matches li")
    expect(match).to_have_count(1)
    expect(match).to_contain_text(customer, ignore_case=True)
    return re.search(r"#\d+ (.+?) ·", match.inner_text())[1]


def customer_id_by_name(page: Page, name: str) -> str:
    """Type a name in the rent form's customer field; the id of the first active match."""
    page.get_by_label("Customer", exact=True).fill(name)
    match = page.locator("#customer-matches li").filter(has_not_text="inactive").first
    return re.match(r"#(\d+)", match.inner_text())[1]


def rent(
    clerk: Person,
    *,
    customer: str,
    film_index: int,
    rented_at: Callable[[Film], datetime] | None = None,
) -> Rented:
    """On the desk: type the customer, pick a film, maybe backdate, press Rent,
    and read the confirmation on the rental's page."""
    page = clerk.page
    name = type_customer(page, customer)
    film = choose_film(page, index=film_index)
    if rented_at is not None:
        page.get_by_label("Rental date").fill(rented_at(film).strftime("%Y-%m-%dT%H:%M"))
    clerk.click_through(page.get_by_role("button", name="Rent", exact=True))
    if page.locator("#rent-warning").count():
        # The customer owes money or has copies overdue: the desk shows it first.
        expect(page.locator("#rent-warning")).to_contain_text(name)
        clerk.click_through(page.get_by_role("button", name="Rent anyway"))
    confirmation = page.get_by_role("status")
    expect(confirmation).to_contain_text("Rented: copy")
    expect(confirmation).to_contain_text(name)
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(film.title)
    rental_number = int(re.search(r"Rental (\d+):", heading.inner_text())[1])
    return Rented(rental_number, film, name, confirmation.inner_text())


# --- The lake control panel ----------------------------------------------------------------

ACTIVE_RUN_NOTICE = "a new run can start once it has ended"


def wait_for_lake_idle(manager: Person) -> None:
    """On the runs page, wait until no run is active (the page updates itself)."""
    manager.visit("/lake/")
    expect(manager.page.get_by_text(ACTIVE_RUN_NOTICE)).to_have_count(
        0, timeout=PIPELINE_TIMEOUT_MS
    )


# Records the run page's state each time its live part changes: the run's
# status and each step's name and status, in order.
RECORD_RUN_STATES_JS = """
() => {
  window.runStates = [];
  window.sameDocument = true;
  const read = () => {
    const live = document.getElementById("run-live");
    if (!live) return;
    const steps = [...live.querySelectorAll("table.steps tbody tr:not(.step-detail)")].map(
      (row) => row.querySelector(".step-name").firstChild.textContent.trim()
        + ": " + row.querySelector(".badge").textContent.trim());
    const state = {status: live.querySelector("h1 .badge").textContent.trim(), steps};
    const last = window.runStates[window.runStates.length - 1];
    if (!last || JSON.stringify(last) !== JSON.stringify(state)) window.runStates.push(state);
  };
  read();
  new MutationObserver(read).observe(document.querySelector("main"), {childList: true, subtree: true});
}
"""


@dataclass(frozen=True)
class WatchedRun:
    run_id: int
    states: list[dict]  # what the page showed, each time it changed
    navigations: int  # page loads while watching (0: it updated in place)
    same_document: bool
    triggered_here: bool  # False: a run the desk had started was already going


def run_pipeline(manager: Person, *, screenshot: str = "") -> WatchedRun:
    """Press "Run now" and watch the run's page until it has ended.

    If a run was already going (desk activity starts one a few seconds after a
    rental), the panel says so and links it: the manager watches that one.
    """
    page = manager.page
    manager.visit("/lake/")
    manager.click_through(page.get_by_role("button", name="Run now"))
    triggered_here = re.search(r"/lake/runs/\d+/$", page.url) is not None
    if not triggered_here:
        # The message, not the panel's own "has been running" notice (also a status).
        expect(page.locator("ul.messages")).to_contain_text("already running")
        manager.click_through(page.get_by_role("link", name=re.compile(r"^Watch run \d+$")))
    run_id = int(re.search(r"/lake/runs/(\d+)/$", page.url)[1])
    page.evaluate(RECORD_RUN_STATES_JS)
    before = manager.navigations
    status = page.locator("#run-live h1 .badge")
    if screenshot:
        # Mid-run, once the first steps are on the page (a quick run may be over by then).
        expect(page.locator("table.steps tbody tr").first).to_be_visible(
            timeout=PIPELINE_TIMEOUT_MS
        )
        if status.inner_text() == "running":
            manager.shoot(f"{screenshot}-running")
    expect(status).to_have_text(re.compile("|".join(FINISHED)), timeout=PIPELINE_TIMEOUT_MS)
    # The live part stops polling once the run has ended: that last state counts.
    expect(page.locator("#run-live[hx-get]")).to_have_count(0)
    states = page.evaluate("window.runStates")
    same_document = page.evaluate("window.sameDocument === true")
    manager.check()
    if screenshot:
        manager.shoot(f"{screenshot}-{status.inner_text()}")
    return WatchedRun(run_id, states, manager.navigations - before, same_document, triggered_here)


# --- Reports --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportTable:
    """A report's table as the page shows it: column names (from the headers'
    titles) and rows of cell texts."""

    columns: list[str]
    rows: list[list[str]]

    def row(self, first: str) -> dict[str, str] | None:
        """The row whose first cell reads ``first``, by column name."""
        for cells in self.rows:
            if cells[0] == first:
                return dict(zip(self.columns, cells, strict=True))
        return None


def open_report(manager: Person, title: str) -> None:
    """Reports in the main menu, then the report in the reports' menu."""
    page = manager.page
    manager.click_through(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports")
    )
    manager.click_through(
        page.get_by_role("navigation", name="Reports").get_by_role("link", name=title)
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(title)


def read_report_table(page: Page) -> ReportTable:
    table = page.locator("table.report-table")
    if table.count() == 0:
        expect(page.get_by_text("No rows: nothing matches these filters.")).to_be_visible()
        return ReportTable([], [])
    columns = [th.get_attribute("title") for th in table.locator("thead th").all()]
    rows = [
        [cell.inner_text().strip() for cell in row.locator("td").all()]
        for row in table.locator("tbody tr").all()
    ]
    return ReportTable(columns, rows)


def chart_marks(page: Page, title: str) -> list[str]:
    """What the report's chart of ``title`` shows on hover: "label: value" per mark."""
    chart = page.get_by_role("img", name=re.compile(f"^{title}"))
    expect(chart).to_be_visible()
    return [mark.text_content() for mark in chart.locator("title").all()]


def number(text: str) -> Decimal:
    """A figure as a report shows it ("1,234.56", "—" for none) as a number."""
    return Decimal(0) if text in ("", "—") else Decimal(text.replace(",", ""))


def data_as_of_run(page: Page) -> int:
    """The run whose data the report shows ("Data as of run N")."""
    as_of = page.locator(".as-of")
    expect(as_of).to_contain_text("Data as of run")
    return int(re.search(r"Data as of run (\d+)", as_of.inner_text())[1])
