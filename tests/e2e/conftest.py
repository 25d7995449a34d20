"""The stack and the browser of the journeys (``make test-e2e``).

The stack is what ``make run`` starts (``python -m sakila_site.serve``, see
tests/stack.py): migrate, setup_demo, collectstatic, then supervisord with
gunicorn (DEBUG off), the Celery worker and beat on the embedded broker, on
127.0.0.1 and a free port, in a fresh SAKILA_VAR_DIR of its own. The browser
is Debian's Chromium driven by Playwright (``executable_path``): nothing here
runs ``playwright install`` or downloads a browser.
Screenshots go to the project's var/e2e/.
"""

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.e2e.people import SCREENSHOT_DIR, Person, Screens
from tests.stack import Stack, stack_serving

CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking"]
# Migrating, loading the demo data and its first lake run, then starting.
STARTUP_TIMEOUT_SECONDS = 600
STACK_KEY = pytest.StashKey[Stack]()
REPORTS_KEY = pytest.StashKey[dict]()

expect.set_options(timeout=20_000)


@pytest.fixture(scope="session")
def stack(tmp_path_factory, request) -> Iterator[Stack]:
    """``make run``'s stack with its demo data, on 127.0.0.1 and a free port."""
    with stack_serving(tmp_path_factory.mktemp("stack-var"), STARTUP_TIMEOUT_SECONDS) as stack:
        request.config.stash[STACK_KEY] = stack
        yield stack


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"No Chromium at {CHROMIUM}: `make chromium` installs Debian's.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def screens(request) -> Screens:
    """This journey's screenshots, named after its module: test_clerk_journey.py, "clerk"."""
    module = request.module.__name__.rpartition(".")[2]
    return Screens(module.removeprefix("test_").removesuffix("_journey").replace("_", "-"))


@pytest.fixture
def new_person(stack, browser, screens, request) -> Iterator[Callable[[], Person]]:
    """Opens a fresh browser session (its own cookies) on the stack.

    At the end, every page a person landed on must have been checked for the
    accessibility basics; on failure, each session's last screen is saved.
    """
    people: list[Person] = []

    def open_session() -> Person:
        context = browser.new_context(
            base_url=stack.url, viewport={"width": 1280, "height": 900}, accept_downloads=True
        )
        context.set_default_timeout(20_000)
        person = Person(context.new_page(), screens)
        people.append(person)
        return person

    yield open_session
    reports = request.node.stash.get(REPORTS_KEY, {})
    failed = "call" in reports and reports["call"].failed
    for index, person in enumerate(people, start=1):
        if failed:
            path = SCREENSHOT_DIR / f"{screens.journey}-failure-session{index}.png"
            person.page.screenshot(path=path, full_page=True)
        else:
            assert not person.unchecked_pages(), (
                f"pages visited without the accessibility check: {person.unchecked_pages()}"
            )
        person.page.context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report for fixtures; add the stack's log to a failure."""
    report = yield
    item.stash.setdefault(REPORTS_KEY, {})[report.when] = report
    stack = item.config.stash.get(STACK_KEY, None)
    if report.failed and stack is not None:
        report.sections.append(("stack log (last lines)", stack.log_tail()))
    return report
