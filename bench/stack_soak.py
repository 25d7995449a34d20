"""A clerk's afternoon on make run's stack: does everything stay up, does anything get lost?

Starts the stack exactly as ``make run`` serves it (supervisord: gunicorn
with DEBUG off, a Celery worker, beat; generated demo data, the embedded
SQLite broker) in a fresh var dir, then two API clients work as the demo
clerk for ``--minutes``: one rents (a random stocked film to a random active
customer), one returns the soak's rentals, sometimes taking the late fee.
Every committed rental or return asks the worker for a lake refresh, beat
publishes the reaper every minute: the broker has several publishers and the
worker runs pipeline runs all along.

Printed every minute and at the end: requests and their statuses (a 5xx is a
failure), restarts of web, worker and beat (pid changes), pipeline runs by
status, messages waiting in the broker and set aside as malformed, and
whether the last rental reached fact_sales. The baseline is the soak's own
first minute: rent latency p50 in the last minute / the first.

    python bench/stack_soak.py                # 10 minutes
    python bench/stack_soak.py --minutes 2
"""

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.stack import Stack, stack_start, stack_stop, wait_until_serving  # noqa: E402

PROGRAMS = ("web", "worker", "beat")


def call(stack: Stack, method: str, path: str, token: str = "", body: dict | None = None):
    """(status, JSON answer or None, seconds)."""
    request = urllib.request.Request(
        stack.url.rstrip("/") + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Token {token}"} if token else {}),
    )
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, text = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read()
    seconds = time.perf_counter() - started
    try:
        return status, json.loads(text), seconds
    except ValueError:
        return status, None, seconds


class Clerk:
    """Two API clients sharing what they rented, with counters."""

    def __init__(self, stack: Stack, token: str, seed: int = 7) -> None:
        self.stack, self.token = stack, token
        self.customers = [row[0] for row in stack.query(
            "SELECT customer_id FROM customer WHERE active = 1")]  # fmt: skip
        self.films = [row[0] for row in stack.query(
            "SELECT DISTINCT film_id FROM inventory WHERE store_id = 1")]  # fmt: skip
        self.open: list[int] = []
        self.statuses: Counter = Counter()
        self.refusals: Counter = Counter()  # the API's message for each 4xx
        self.rent_latencies: list[tuple[float, float]] = []  # (time, seconds)
        self.last_rental = 0
        self.lock = threading.Lock()
        self.rng = random.Random(seed)

    def rent(self) -> None:
        body = {"customer": self.rng.choice(self.customers), "film": self.rng.choice(self.films)}
        status, answer, seconds = call(self.stack, "POST", "/api/rentals/", self.token, body)
        with self.lock:
            self.statuses[status] += 1
            self.rent_latencies.append((time.monotonic(), seconds))
            if 400 <= status < 500:
                self.refusals[refusal(answer)] += 1
            if status == 201:
                self.open.append(answer["id"])
                self.last_rental = max(self.last_rental, answer["id"])

    def give_back(self) -> None:
        with self.lock:
            if len(self.open) < 5:
                return
            rental_id = self.open.pop(self.rng.randrange(len(self.open)))
        body = {"payment_amount": "1.00"} if self.rng.random() < 0.3 else {}
        status, answer, _ = call(
            self.stack, "POST", f"/api/rentals/{rental_id}/return/", self.token, body
        )
        with self.lock:
            self.statuses[status] += 1
            if 400 <= status < 500:
                self.refusals[refusal(answer)] += 1


def refusal(answer: object) -> str:
    """The API's message, with ids and names blanked so that alike ones count together."""
    text = json.dumps(answer)[:160]
    return re.sub(r"\b[A-Z][A-Z]+(?: [A-Z][A-Z]+)*\b|\d[\d.,:-]*", "_", text)


def p50(samples: list[tuple[float, float]], since: float, until: float) -> float:
    values = [seconds for at, seconds in samples if since <= at < until]
    return statistics.median(values) * 1000 if values else float("nan")


def snapshot(stack: Stack, pids: dict[str, int], restarts: Counter) -> str:
    for name in PROGRAMS:
        pid = stack.program_pid(name)
        if pid and pid != pids[name]:
            restarts[name] += 1
            pids[name] = pid
    runs = dict(stack.query("SELECT status, count(*) FROM lake_pipelinerun GROUP BY status"))
    broker = Path(stack.var_dir / "broker.sqlite3")
    waiting = rejected = "?"
    if broker.exists():
        import sqlite3

        with sqlite3.connect(broker, timeout=10) as db:
            waiting = db.execute("SELECT count(*) FROM kombu_message").fetchone()[0]
            rejected = db.execute("SELECT count(*) FROM kombu_message_rejected").fetchone()[0]
    return (f"runs {runs}  broker waiting/in hand {waiting}  set aside {rejected}  "
            f"restarts {dict(restarts) or 'none'}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="sakila-soak-"))
    print(f"starting make run's stack in {var_dir} (demo data, first lake run)", flush=True)
    stack = stack_start(var_dir)
    try:
        wait_until_serving(stack, timeout=600)
        status, answer, _ = call(
            stack,
            "POST",
            "/api/auth/token/",
            body={"username": "clerk", "password": "sakila-clerk"},
        )
        assert status == 200, answer
        clerk = Clerk(stack, answer["token"])
        pids = {name: stack.program_pid(name) for name in PROGRAMS}
        restarts: Counter = Counter()
        started = time.monotonic()
        deadline = started + args.minutes * 60
        stop = threading.Event()

        def work(step) -> None:
            while not stop.is_set() and time.monotonic() < deadline:
                step()
                time.sleep(0.2)

        threads = [
            threading.Thread(target=work, args=(step,)) for step in (clerk.rent, clerk.give_back)
        ]
        for thread in threads:
            thread.start()
        minute = 0
        while time.monotonic() < deadline:
            time.sleep(min(60, max(0.0, deadline - time.monotonic())))
            minute += 1
            print(f"minute {minute}: requests {dict(clerk.statuses)}  "
                  f"{snapshot(stack, pids, restarts)}", flush=True)  # fmt: skip
        stop.set()
        for thread in threads:
            thread.join()

        # The last rental should reach the lake by the next refresh.
        lag_started = time.monotonic()
        caught_up = False
        while time.monotonic() - lag_started < 120:
            done = stack.manage(
                "lake",
                "query",
                f"SELECT count(*) AS n FROM fact_sales WHERE rental_id = {clerk.last_rental}",
            )
            if done.strip().splitlines()[-1].strip() == "1":
                caught_up = True
                break
            time.sleep(2)
        end = time.monotonic()
        first, last = (
            p50(clerk.rent_latencies, started, started + 60),
            p50(clerk.rent_latencies, deadline - 60, deadline),
        )
        server_errors = sum(n for status, n in clerk.statuses.items() if status >= 500)
        reached = f"yes, {end - lag_started:.1f} s after the soak" if caught_up else "NO"
        print()
        print(f"{args.minutes:g} minutes, {sum(clerk.statuses.values()):,} requests: "
              f"{dict(clerk.statuses)}; 5xx: {server_errors}")  # fmt: skip
        print(f"refused (4xx), by message: {dict(clerk.refusals.most_common(5))}")
        print(f"at the end: {snapshot(stack, pids, restarts)}")
        print(f"last rental {clerk.last_rental} in fact_sales: {reached}")
        print(f"rent p50: first minute {first:.0f} ms, last minute {last:.0f} ms "
              f"(x{last / first:.2f} of the first)")  # fmt: skip
    finally:
        left = stack_stop(stack)
        print(f"stack stopped; processes left behind: {len(left)}")


if __name__ == "__main__":
    main()
