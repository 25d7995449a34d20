"""Throughput and latency of the REST API, served by gunicorn on MariaDB.

A fresh database is generated (not timed), a clerk login linked to a staff
row of store 1 gets a token, and gunicorn serves the site with DEBUG off
(its own SECRET_KEY, ALLOWED_HOSTS and static files; HTTPS redirect off, as
behind a proxy that terminates TLS). Then, from this process:

- latency: one client sends the same GET again and again (after a warm-up)
  and p50/p95 are taken, for ``/api/films/?available_at_store=1``,
  ``/api/rentals/`` and, as the floor, ``/admin/login/`` (a plain Django
  page: routing, middleware, a template, no query);
- throughput: N client threads for a fixed time: rentals created per second
  by ``POST /api/rentals/`` (random stocked film, random active customer),
  against the floor's requests per second with the same clients.

``x floor`` is the endpoint's p50 or p95 over the floor's, or the floor's
requests per second over rentals per second. The clients run on the same
machine as gunicorn and MariaDB, and take their share of its cores.

    python bench/api.py                          # scale 10, 8 clients, 4 workers
    python bench/api.py --scale 1 --seconds 10   # a quick look
    make bench-api                               # the same as python bench/api.py
"""

import argparse
import http.client
import json
import os
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
FLOOR = "/admin/login/"
LATENCY_URLS = ["/api/films/?available_at_store=1", "/api/rentals/"]

SETUP = """
import json
from rest_framework.authtoken.models import Token
from rentals import services
from rentals.models import Customer, Inventory, Staff
from sakila_site.roles import CLERK

staff = Staff.objects.filter(store_id=1).order_by("pk").first()
user = services.staff_user_create(
    username="bench-clerk", password="bench-clerk-password", role=CLERK, staff=staff
)
print(json.dumps({
    "token": Token.objects.create(user=user).key,
    "films": sorted(set(Inventory.objects.filter(store_id=1).values_list("film_id", flat=True))),
    "customers": list(Customer.objects.filter(active=True).values_list("pk", flat=True)),
}))
"""


def manage(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, input=stdin, capture_output=True, text=True,
    )  # fmt: skip
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def mysql_recreate(url: str) -> None:
    import MySQLdb

    pattern = r"mysql://(?P<user>[^:@]+)(?::(?P<pw>[^@]*))?@(?P<host>[^:/]+)(?::(?P<port>\d+))?/(?P<db>\w+)$"
    match = re.match(pattern, url)
    if not match:
        raise SystemExit(f"cannot read {url}")
    connection = MySQLdb.connect(
        host=match["host"], port=int(match["port"] or 3306), user=match["user"],
        password=match["pw"] or "",
    )  # fmt: skip
    cursor = connection.cursor()
    cursor.execute(f"DROP DATABASE IF EXISTS {match['db']}")
    cursor.execute(f"CREATE DATABASE {match['db']} CHARACTER SET utf8mb4")
    connection.close()


def prepare(args, var_dir: Path) -> tuple[dict[str, str], dict]:
    """A generated database, static files and a clerk's token; the server's environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECURE_"))}
    env.update(
        SAKILA_VAR_DIR=str(var_dir),
        DATABASE_URL=args.mysql_url,
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS=HOST,
        SECURE_SSL_REDIRECT="false",
        SECURE_HSTS_SECONDS="0",
        CONN_MAX_AGE="60",  # persistent connections, as deployed
        LOG_LEVEL="ERROR",  # refusals (400s) are expected; 500s are counted below
    )
    mysql_recreate(args.mysql_url)
    manage(env, "migrate", "-v", "0")
    manage(env, "generate_sakila", "--scale", str(args.scale))
    manage(env, "collectstatic", "--no-input", "-v", "0")
    fixture = json.loads(manage(env, "shell", stdin=SETUP).strip().splitlines()[-1])
    return env, fixture


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def start_server(env: dict[str, str], port: int, workers: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"), "sakila_site.wsgi",
            "--workers", str(workers), "--bind", f"{HOST}:{port}",
            "--log-level", "warning",
        ],
        cwd=ROOT, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if request(http.client.HTTPConnection(HOST, port, timeout=5), "GET", FLOOR)[0] == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not start (or did not answer within 30 s)")


def request(
    connection: http.client.HTTPConnection,
    method: str,
    url: str,
    headers: dict[str, str] | None = None,
    body: dict | None = None,
) -> tuple[int, bytes]:
    payload = json.dumps(body) if body is not None else None
    headers = {**(headers or {}), **({"Content-Type": "application/json"} if payload else {})}
    connection.request(method, url, body=payload, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def latency(port: int, url: str, headers: dict[str, str], count: int) -> tuple[float, float]:
    """p50 and p95 in milliseconds of ``count`` GETs of ``url`` by one client."""
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    for _ in range(max(5, count // 10)):  # warm-up: every worker's connections and caches
        request(connection, "GET", url, headers)
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        status, body = request(connection, "GET", url, headers)
        samples.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise SystemExit(f"GET {url}: {status} {body[:300]!r}")
    quantiles = statistics.quantiles(samples, n=100)
    return quantiles[49], quantiles[94]


def throughput(port: int, clients: int, seconds: float, send) -> tuple[int, dict[int, int], float]:
    """(successes, statuses, elapsed) of ``clients`` threads calling ``send`` for ``seconds``."""
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    stop = threading.Event()

    def client(number: int) -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=60)
        rng = random.Random(number)
        start.wait()
        while not stop.is_set():
            status = send(connection, rng)
            with lock:
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    started = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return statuses.get(200, 0) + statuses.get(201, 0), statuses, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mysql-url", default="mysql://root@127.0.0.1:3306/sakila_bench_api")
    parser.add_argument("--scale", default="10")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=20.0, help="per throughput case")
    parser.add_argument("--requests", type=int, default=200, help="per latency case")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    args = parser.parse_args()
    args.port = args.port or free_port()

    with tempfile.TemporaryDirectory() as var_dir:
        print(f"preparing: generate_sakila --scale {args.scale} on {args.mysql_url}", flush=True)
        env, fixture = prepare(args, Path(var_dir))
        auth = {"Authorization": f"Token {fixture['token']}"}
        server = start_server(env, args.port, args.workers)
        try:
            rows = []
            floor_p50, floor_p95 = latency(args.port, FLOOR, {}, args.requests)
            rows.append((f"GET {FLOOR} (floor)", floor_p50, floor_p95))
            for url in LATENCY_URLS:
                rows.append((f"GET {url}", *latency(args.port, url, auth, args.requests)))

            def get_floor(connection, rng) -> int:
                return request(connection, "GET", FLOOR)[0]

            def rent(connection, rng) -> int:
                body = {
                    "customer": rng.choice(fixture["customers"]),
                    "film": rng.choice(fixture["films"]),
                }
                return request(connection, "POST", "/api/rentals/", auth, body)[0]

            floor_ok, floor_statuses, floor_elapsed = throughput(
                args.port, args.clients, args.seconds, get_floor
            )
            rented, rent_statuses, rent_elapsed = throughput(
                args.port, args.clients, args.seconds, rent
            )
        finally:
            server.terminate()
            server.wait(timeout=30)

    print(
        f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; gunicorn "
        f"{args.workers} sync workers, DEBUG off, MariaDB at scale {args.scale}\n"
    )
    print(f"latency, one client, {args.requests} requests each after a warm-up")
    print(f"{'request':<44}{'p50 ms':>9}{'p95 ms':>9}{'x floor p50':>13}{'x floor p95':>13}")
    for label, p50, p95 in rows:
        print(f"{label:<44}{p50:>9.1f}{p95:>9.1f}{p50 / floor_p50:>13.1f}{p95 / floor_p95:>13.1f}")
    floor_rate = floor_ok / floor_elapsed
    rent_rate = rented / rent_elapsed
    print(f"\nthroughput, {args.clients} clients for {args.seconds:.0f} s each")
    print(f"GET {FLOOR} (floor): {floor_rate:,.1f} requests/s  statuses {floor_statuses}")
    print(
        f"POST /api/rentals/: {rent_rate:,.1f} rentals created/s  statuses {rent_statuses}  "
        f"(floor / rentals = {floor_rate / rent_rate:.1f}x)"
    )
    if any(status >= 500 for status in {**floor_statuses, **rent_statuses}):
        raise SystemExit("server errors: see the statuses above")


if __name__ == "__main__":
    main()
