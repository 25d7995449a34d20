"""``make run``'s stack for tests: ``python -m sakila_site.serve`` in a SAKILA_VAR_DIR and
on a free port of its own, as the end-to-end journeys and the supervision test use it.

The launcher becomes supervisord, which starts web, worker and beat each in a
process group of its own; all of them stay in the session the test starts, so
stopping checks (and clears) that session.
"""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from sakila_site.serve import stack_environ

PROJECT = Path(__file__).resolve().parents[1]
STOP_TIMEOUT_SECONDS = 30
# Settings that would put the stack's state outside its own SAKILA_VAR_DIR
# (another database, broker, cache or lake), and those make run decides itself:
# the stack runs the embedded default exactly as make run serves it.
NOT_INHERITED = (
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
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "HOST",
    "PORT",
)


@dataclass
class Stack:
    url: str
    var_dir: Path
    log_path: Path
    process: subprocess.Popen  # the launcher, then supervisord (it execs)
    env: dict[str, str]  # the launcher's environment

    def log_tail(self, lines: int = 200) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def program_pid(self, name: str) -> int:
        """The pid of one of supervisord's programs (web, worker, beat); 0 when not running."""
        done = subprocess.run(
            [sys.executable, "-m", "supervisor.supervisorctl",
             "-s", f"unix://{self.var_dir / 'supervisor.sock'}", "pid", name],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        return int(done.stdout.strip()) if done.stdout.strip().isdigit() else 0

    def manage(self, *args: str) -> str:
        """A manage.py command with the stack's settings; its output."""
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=PROJECT, env=stack_environ(self.env), capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def query(self, sql: str, *params) -> list[tuple]:
        """Rows of the stack's own SQLite database, read only."""
        uri = f"file:{self.var_dir / 'sakila.sqlite3'}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=10)) as connection:
            return connection.execute(sql, params).fetchall()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stack_start(var_dir: Path, *, demo: bool = True) -> Stack:
    """Start the launcher (migrate, setup_demo unless not ``demo``, collectstatic,
    supervisord); its output goes to ``var_dir/stack.log``."""
    var_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {name: value for name, value in os.environ.items() if name not in NOT_INHERITED}
    env |= {"SAKILA_VAR_DIR": str(var_dir), "HOST": "127.0.0.1", "PORT": str(port)}
    log_path = var_dir / "stack.log"
    with log_path.open("a") as log:  # appending: supervisord and its programs share it
        process = subprocess.Popen(
            [sys.executable, "-m", "sakila_site.serve", *([] if demo else ["--no-demo"])],
            cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    return Stack(f"http://127.0.0.1:{port}/", var_dir, log_path, process, env)


def status_of(url: str) -> int | None:
    """The HTTP status ``url`` answers with (redirects not followed), None if it does not."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return None


def wait_for(condition: Callable[[], object], timeout: float, what: str, stack: Stack) -> object:
    """Poll ``condition`` until it is true; fail with the stack's log if it does not get there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        if stack.process.poll() is not None:
            raise AssertionError(f"The stack stopped while waiting for {what}:\n{stack.log_tail()}")
        time.sleep(0.2)
    raise AssertionError(f"Timed out ({timeout} s) waiting for {what}:\n{stack.log_tail()}")


def wait_until_serving(stack: Stack, timeout: float) -> None:
    """The site answers and a worker has started."""

    def serving() -> bool:
        log = stack.log_path.read_text(errors="replace")
        return " ready." in log and status_of(f"{stack.url}accounts/login/") == 200

    wait_for(serving, timeout, f"the stack to serve {stack.url}", stack)


def session_members(session: int) -> list[str]:
    """Live processes (not zombies) of a session, as "pid stat command" lines of ps."""
    listing = subprocess.run(
        ["ps", "-o", "pid=,stat=,args=", "-s", str(session)], capture_output=True, text=True
    ).stdout
    return [line.strip() for line in listing.splitlines() if not line.split()[1].startswith("Z")]


def stack_stop(stack: Stack) -> list[str]:
    """Stop supervisord as Ctrl-C does (it stops its programs first), and wait for
    every process of the stack to end. Returns those still running after
    STOP_TIMEOUT_SECONDS, which it then kills."""
    session = stack.process.pid  # start_new_session: the launcher leads it
    if stack.process.poll() is None:
        stack.process.send_signal(signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            stack.process.wait(timeout=STOP_TIMEOUT_SECONDS)
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    while (left := session_members(session)) and time.monotonic() < deadline:
        time.sleep(0.2)
    for line in left:
        with suppress(ProcessLookupError):
            os.kill(int(line.split()[0]), signal.SIGKILL)
    if stack.process.poll() is None:
        stack.process.kill()
    stack.process.wait()
    return left


@contextmanager
def stack_serving(var_dir: Path, timeout: float) -> Iterator[Stack]:
    """A stack with its demo data, once it serves; stopped after, none of its
    processes left running."""
    stack = stack_start(var_dir)
    try:
        wait_until_serving(stack, timeout)
        yield stack
    finally:
        left = stack_stop(stack)
    assert not left, f"Stack processes left running: {left}"
