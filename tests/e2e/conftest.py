"""The stack and the browser of the journeys (``make test-e2e``).

The stack is what ``make run`` starts: migrate, setup_demo, then honcho with
the Procfile (web, Celery worker and beat on the embedded broker), on
127.0.0.1 and a free port, in a fresh SAKILA_VAR_DIR of its own. The browser
is Debian's Chromium driven by Playwright (``executable_path``): nothing here
runs ``playwright install`` or downloads a browser.
Screenshots go to the project's var/e2e/.
"""

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.e2e.people import PROJECT, SCREENSHOT_DIR, Person, Screens

VENV_BIN = PROJECT / ".venv" / "bin"
CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking"]
STARTUP_TIMEOUT_SECONDS = 120
STOP_TIMEOUT_SECONDS = 30
# Settings that would put the stack's state outside its own SAKILA_VAR_DIR
# (another database, broker, cache or lake): the journeys run the embedded default.
OUTSIDE_STATE = (
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "CACHE_URL",
    "LAKE_WAREHOUSE",
    "LAKE_CATALOG_URI",
    "LAKE_ENGINE",
    "LAKE_CATALOG",
    "QUERY_ENGINE",
    "SAKILA_CSV_DIR",
    "CELERY_TASK_ALWAYS_EAGER",
)
STACK_KEY = pytest.StashKey["Stack"]()
REPORTS_KEY = pytest.StashKey[dict]()

expect.set_options(timeout=20_000)


@dataclass
class Stack:
    url: str
    var_dir: Path
    log_path: Path
    process: subprocess.Popen

    def log_tail(self, lines: int = 200) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stack_env(var_dir: Path, port: int) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in OUTSIDE_STATE}
    return env | {
        "SAKILA_VAR_DIR": str(var_dir),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        "PYTHONUNBUFFERED": "1",
    }


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _wait_until_serving(stack: Stack) -> None:
    """The site answers and the worker is ready to take runs."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if stack.process.poll() is not None:
            raise RuntimeError(f"The stack stopped while starting:\n{stack.log_tail()}")
        log = stack.log_path.read_text(errors="replace")
        if " ready." in log and _answers(f"{stack.url}accounts/login/"):
            return
        time.sleep(0.5)
    raise RuntimeError(
        f"The stack did not serve {stack.url} within {STARTUP_TIMEOUT_SECONDS} s:\n"
        + stack.log_tail()
    )


def _group_members(group: int) -> list[str]:
    """Live processes (not zombies) of a process group, as "pid command" lines of ps."""
    listing = subprocess.run(
        ["ps", "-o", "pid=,stat=,args=", "-g", str(group)], capture_output=True, text=True
    ).stdout
    return [line.strip() for line in listing.splitlines() if line.split()[1:2] != ["Z"]]


def _stop(stack: Stack) -> None:
    """Stop honcho and everything it started (its process group), and check with ps."""
    group = stack.process.pid  # start_new_session: the group's id is honcho's pid
    try:
        os.killpg(group, signal.SIGTERM)  # honcho stops web, worker and beat
        stack.process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(group, signal.SIGKILL)
        stack.process.wait()
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while (left := _group_members(group)) and time.monotonic() < deadline:
        time.sleep(0.2)
    if left:
        os.killpg(group, signal.SIGKILL)
        time.sleep(0.5)
        assert not _group_members(group), f"Stack processes left running: {left}"


def _manage(env: dict[str, str], log, *args: str) -> None:
    log.write(f"{time.strftime('%H:%M:%S')} $ manage.py {' '.join(args)}\n")
    log.flush()
    done = subprocess.run(
        [str(VENV_BIN / "python"), "manage.py", *args],
        cwd=PROJECT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        timeout=STARTUP_TIMEOUT_SECONDS,
    )
    if done.returncode:
        log.flush()
        raise RuntimeError(f"manage.py {' '.join(args)} failed")


@pytest.fixture(scope="session")
def stack(tmp_path_factory, request) -> Iterator[Stack]:
    """``make run``'s stack with its demo data, on 127.0.0.1 and a free port."""
    var_dir = tmp_path_factory.mktemp("stack-var")
    port = _free_port()
    env = _stack_env(var_dir, port)
    log_path = var_dir / "stack.log"
    with log_path.open("a") as log:
        try:
            _manage(env, log, "migrate", "--no-input")
            _manage(env, log, "setup_demo")
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            pytest.fail(f"{error}:\n{log_path.read_text(errors='replace')[-6000:]}")
        process = subprocess.Popen(
            [str(VENV_BIN / "honcho"), "start", "-f", "Procfile"],
            cwd=PROJECT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    stack = Stack(f"http://127.0.0.1:{port}/", var_dir, log_path, process)
    request.config.stash[STACK_KEY] = stack
    try:
        _wait_until_serving(stack)
        yield stack
    finally:
        _stop(stack)


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
