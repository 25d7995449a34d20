"""Time and peak memory to generate and load Sakila data.

Each case runs the real command (``generate_sakila`` or ``load_sakila``) in a
child process on a freshly migrated database, and reads the child's peak
resident memory from the kernel (wait4). The baseline, measured in the same
run, is the floor for writing rows: plain ``executemany`` of ready-made
rental-shaped tuples into a table with the rental table's indexes, in one
transaction, with no parsing, generation or Django. ``x floor`` is how many
times slower than that floor each case writes its rows.

    python bench/load.py                       # scales 1, 10, 100 on SQLite, 10 on MariaDB
    python bench/load.py --scales 1 --no-mysql # a quick look
"""

import argparse
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REAL_DATA = ROOT.parent / "shared" / "sakila"
FLOOR_ROWS = 1_000_000
RENTAL_SHAPE = """
CREATE TABLE rental (
  rental_id integer PRIMARY KEY AUTOINCREMENT, rental_date datetime NOT NULL,
  inventory_id integer NOT NULL, customer_id integer NOT NULL, return_date datetime,
  staff_id integer NOT NULL, last_update datetime NOT NULL);
CREATE UNIQUE INDEX r1 ON rental (rental_date, inventory_id, customer_id);
CREATE INDEX r2 ON rental (inventory_id);
CREATE INDEX r3 ON rental (customer_id);
CREATE INDEX r4 ON rental (staff_id);
CREATE INDEX r5 ON rental (last_update);
"""


def rental_like_rows(count: int) -> list[tuple]:
    start = datetime(2005, 5, 24)
    return [
        (i, start + timedelta(seconds=i * 13), i % 4581 + 1, i % 599 + 1,
         start + timedelta(seconds=i * 13 + 86400), 1 + i % 2, start)
        for i in range(1, count + 1)
    ]  # fmt: skip


def sqlite_floor(rows: list[tuple]) -> float:
    with tempfile.TemporaryDirectory() as directory:
        connection = sqlite3.connect(Path(directory) / "floor.sqlite3", isolation_level=None)
        connection.executescript(RENTAL_SHAPE)
        started = time.perf_counter()
        connection.execute("BEGIN")
        for offset in range(0, len(rows), 5000):
            connection.executemany(
                "INSERT INTO rental VALUES (?, ?, ?, ?, ?, ?, ?)", rows[offset : offset + 5000]
            )
        connection.execute("COMMIT")
        seconds = time.perf_counter() - started
        connection.close()
    return len(rows) / seconds


def mysql_floor(url: str, rows: list[tuple]) -> float:
    connection = mysql_connect(url)
    cursor = connection.cursor()
    database = f"{url.rsplit('/', 1)[1]}_floor"
    cursor.execute(f"DROP DATABASE IF EXISTS {database}")
    cursor.execute(f"CREATE DATABASE {database}")
    cursor.execute(f"USE {database}")
    ddl = RENTAL_SHAPE.replace("integer PRIMARY KEY AUTOINCREMENT", "int PRIMARY KEY")
    for statement in filter(str.strip, ddl.split(";")):
        cursor.execute(statement.replace("datetime", "datetime(6)"))
    started = time.perf_counter()
    for offset in range(0, len(rows), 5000):
        cursor.executemany(
            "INSERT INTO rental VALUES (%s, %s, %s, %s, %s, %s, %s)", rows[offset : offset + 5000]
        )
    connection.commit()
    seconds = time.perf_counter() - started
    cursor.execute(f"DROP DATABASE {database}")
    connection.close()
    return len(rows) / seconds


def mysql_connect(url: str):
    import MySQLdb

    pattern = r"mysql://(?P<user>[^:@]+)(?::(?P<pw>[^@]*))?@(?P<host>[^:/]+)(?::(?P<port>\d+))?/"
    match = re.match(pattern, url)
    if not match:
        raise SystemExit(f"cannot read {url}")
    return MySQLdb.connect(
        host=match["host"], port=int(match["port"] or 3306), user=match["user"],
        password=match["pw"] or "",
    )  # fmt: skip


def fresh_database(backend: str, mysql_url: str, var_dir: Path) -> dict[str, str]:
    """Environment for a child process with an empty, migrated database."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["SAKILA_VAR_DIR"] = str(var_dir)
    if backend == "mysql":
        connection = mysql_connect(mysql_url)
        name = mysql_url.rsplit("/", 1)[1]
        connection.cursor().execute(f"DROP DATABASE IF EXISTS {name}")
        connection.cursor().execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
        connection.close()
        env["DATABASE_URL"] = mysql_url
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    return env


def run_case(command: list[str], env: dict[str, str]) -> tuple[int, float, float]:
    """(rows written, seconds, peak MB) of one management command."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "manage.py", *command],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{output}")
    rows = int(re.search(r"(?:Generated|Loaded) ([\d,]+) rows", output)[1].replace(",", ""))
    return rows, seconds, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="1,10,100", help="SQLite scales (default 1,10,100)")
    parser.add_argument("--mysql-scale", default="10", help="MariaDB scales (default 10)")
    parser.add_argument("--mysql-url", default="mysql://root@127.0.0.1:3306/sakila_bench")
    parser.add_argument("--no-mysql", action="store_true")
    parser.add_argument("--floor", choices=["sqlite", "mysql"], help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.floor:  # in a child, so that its memory does not count in the cases' peaks
        rows = rental_like_rows(FLOOR_ROWS)
        rate = sqlite_floor(rows) if args.floor == "sqlite" else mysql_floor(args.mysql_url, rows)
        print(rate)
        return
    floors = {
        backend: float(
            subprocess.run(
                [sys.executable, __file__, "--floor", backend, "--mysql-url", args.mysql_url],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        for backend in (["sqlite"] if args.no_mysql else ["sqlite", "mysql"])
    }

    cases = [("sqlite", ["generate_sakila", "--scale", s]) for s in args.scales.split(",") if s]
    if REAL_DATA.is_dir():
        cases.append(("sqlite", ["load_sakila", str(REAL_DATA)]))
    if not args.no_mysql:
        cases += [
            ("mysql", ["generate_sakila", "--scale", s]) for s in args.mysql_scale.split(",") if s
        ]
        if REAL_DATA.is_dir():
            cases.append(("mysql", ["load_sakila", str(REAL_DATA)]))

    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    for backend, rate in floors.items():
        print(f"floor ({backend}): executemany of {FLOOR_ROWS:,} rental-shaped rows: {rate:,.0f}/s")
    print()
    header = (
        f"{'backend':<8}{'command':<34}{'rows':>12}{'seconds':>10}{'rows/s':>12}"
        f"{'x floor':>9}{'peak MB':>9}"
    )
    print(header)
    print("-" * len(header))
    for backend, command in cases:
        with tempfile.TemporaryDirectory() as var_dir:
            env = fresh_database(backend, args.mysql_url, Path(var_dir))
            written, seconds, peak = run_case(command, env)
        rate = written / seconds
        label = " ".join(command).replace(str(REAL_DATA), "<real data>")
        print(
            f"{backend:<8}{label:<34}{written:>12,}{seconds:>10.1f}{rate:>12,.0f}"
            f"{floors[backend] / rate:>9.1f}{peak:>9.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
