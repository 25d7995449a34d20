"""Full and incremental lake runs against two references, measured in one run.

For each scale: a fresh database is generated (not timed), then, each in its
own child process so that peak memory is its own:

- floor: every source row read once with a columnar reader (ADBC's SQLite
  driver; on MariaDB mysqlclient's streaming cursor, the reader the
  pipeline uses);
- naive: every source table read with pandas, the whole star schema
  rebuilt with pandas merges and written as Parquet files;
- full: ``manage.py lake run --full``;
- incremental: 100 new rentals with payments, 20 returns and 5 customer
  updates, then ``manage.py lake run``.

The generated rows are made a day old first (``backdate``), as they would
be in a database loaded before today.

Per-step seconds come from the run's own summary; the data checks' share is
their step's seconds against the rest of the same run.

    python bench/lake.py                        # scales 1, 10, 100 on SQLite, 10 on MariaDB
    python bench/lake.py --scales 1 --no-mysql  # a quick look
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLES = [
    "language", "country", "city", "address", "actor", "category", "film", "film_actor",
    "film_category", "staff", "store", "inventory", "customer", "rental", "payment",
]  # fmt: skip


def child(args: list[str], env: dict) -> tuple[str, float, float]:
    """(output, seconds, peak MB) of a child process."""
    started = time.perf_counter()
    process = subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{output}")
    return output, seconds, usage.ru_maxrss / 1024


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sakila_site.settings")
    import django

    django.setup()


# The child-process parts ---------------------------------------------------


def floor_read() -> None:
    """Read every source row once; print the row count."""
    django_setup()
    from django.db import connection

    rows = 0
    started = time.perf_counter()
    if connection.vendor == "sqlite":
        import adbc_driver_sqlite.dbapi

        path = str(connection.settings_dict["NAME"])
        with adbc_driver_sqlite.dbapi.connect(path) as source, source.cursor() as cursor:
            for table in TABLES:
                cursor.execute(f'SELECT * FROM "{table}"')
                rows += cursor.fetch_arrow_table().num_rows
    else:
        import MySQLdb.cursors

        db = connection.settings_dict
        source = MySQLdb.connect(
            host=db["HOST"], port=int(db["PORT"] or 3306), user=db["USER"],
            password=db["PASSWORD"] or "", database=db["NAME"],
        )  # fmt: skip
        for table in TABLES:
            cursor = source.cursor(MySQLdb.cursors.SSCursor)
            cursor.execute(f"SELECT * FROM `{table}`")
            while batch := cursor.fetchmany(100_000):
                rows += len(batch)
            cursor.close()
    print(rows, time.perf_counter() - started)


def naive_rebuild(out_dir: str) -> None:
    """pandas: read every table, rebuild the star schema, write it as Parquet."""
    django_setup()
    import pandas as pd
    from django.db import connection

    started = time.perf_counter()
    frames = {}
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            columns = [c[0] for c in cursor.description]
            frames[table] = pd.DataFrame(cursor.fetchall(), columns=columns)
    f = frames
    address = (
        f["address"]
        .merge(f["city"], on="city_id", suffixes=("", "_c"))
        .merge(f["country"], on="country_id", suffixes=("", "_co"))
    )
    dim_customer = f["customer"].merge(address, on="address_id", suffixes=("", "_a"))
    category = f["film_category"].merge(f["category"], on="category_id")
    dim_film = f["film"].merge(category[["film_id", "name"]], on="film_id", how="left")
    paid = f["payment"].groupby("rental_id").agg(amount=("amount", "sum"), n=("amount", "size"))
    fact = (
        f["rental"].merge(f["inventory"], on="inventory_id", suffixes=("", "_i"))
        .merge(paid, left_on="rental_id", right_index=True, how="left")
    )  # fmt: skip
    fact["date_sales_id"] = pd.to_datetime(fact["rental_date"]).dt.strftime("%Y%m%d").astype(int)
    out = Path(out_dir)
    for name, frame in {
        "dim_customer": dim_customer, "dim_film": dim_film, "dim_store": f["store"],
        "dim_staff": f["staff"].drop(columns=["picture"]), "dim_actor": f["actor"],
        "bridge_film_actor": f["film_actor"], "fact_sales": fact,
    }.items():  # fmt: skip
        frame.astype({c: str for c in frame.columns if frame[c].dtype == object}).to_parquet(
            out / f"{name}.parquet"
        )
    print(len(fact), time.perf_counter() - started)


def backdate() -> None:
    """Make the generated rows a day old, as data loaded before today is.

    Rows changed within the overlap window are read again by every run;
    freshly generated data would make the incremental run read everything.
    """
    django_setup()
    from datetime import timedelta

    from django.db import connection, transaction
    from django.utils import timezone

    day_ago = timezone.now() - timedelta(days=1)
    with transaction.atomic(), connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(
                f"UPDATE {connection.ops.quote_name(table)} SET last_update = %s", [day_ago]
            )


def apply_changes() -> None:
    """100 new rentals with payments, 20 returns, 5 customer updates."""
    django_setup()
    from django.db import transaction
    from django.utils import timezone

    from rentals.models import Customer, Inventory, Payment, Rental

    now = timezone.now()
    with transaction.atomic():
        customers = list(Customer.objects.filter(active=True).order_by("pk")[:100])
        copies = Inventory.objects.exclude(rentals__return_date__isnull=True).select_related("film")
        for customer, copy in zip(customers, copies.order_by("-pk")[:100], strict=False):
            rental = Rental.objects.create(
                rental_date=now, inventory=copy, customer=customer, staff_id=copy.store_id
            )
            Payment.objects.create(
                customer=customer, staff_id=copy.store_id, rental=rental,
                amount=copy.film.rental_rate, payment_date=now,
            )  # fmt: skip
        for rental in Rental.objects.filter(return_date__isnull=True).order_by("pk")[:20]:
            rental.return_date = now
            rental.save()
        for customer in Customer.objects.order_by("-pk")[:5]:
            customer.email = f"changed.{customer.pk}@sakilacustomer.org"
            customer.save()


# The parent ----------------------------------------------------------------


def run_seconds(output: str) -> float:
    return float(re.search(r"succeeded in ([\d.]+) s", output)[1])


def step_seconds(output: str) -> dict[str, float]:
    steps = {}
    for line in output.splitlines():
        match = re.match(r"(\S+(?: \S+)?)\s+succeeded\s+[\d,]+\s+\d+\s+([\d.]+)$", line)
        if match:
            steps[match[1]] = float(match[2])
    return steps


def bench(backend: str, scale: str, env: dict, me: list[str]) -> list[str]:
    python = [sys.executable]
    child([*python, "manage.py", "migrate", "-v", "0"], env)
    generated, _, _ = child([*python, "manage.py", "generate_sakila", "--scale", scale], env)
    rows = int(re.search(r"Generated ([\d,]+) rows", generated)[1].replace(",", ""))
    child([*python, *me, "--child", "backdate"], env)
    floor_out, _, floor_mb = child([*python, *me, "--child", "floor"], env)
    read, floor_s = floor_out.split()
    read, floor_s = int(read), float(floor_s)
    with tempfile.TemporaryDirectory() as out_dir:
        naive_out, _, naive_mb = child([*python, *me, "--child", "naive", out_dir], env)
    naive_s = float(naive_out.split()[1])
    full_out, _, full_mb = child([*python, "manage.py", "lake", "run", "--full"], env)
    child([*python, *me, "--child", "changes"], env)
    inc_out, _, inc_mb = child([*python, "manage.py", "lake", "run"], env)
    full_s, inc_s = run_seconds(full_out), run_seconds(inc_out)
    lines = [
        f"{backend:<7}{scale:>6}{'floor read':>14}{floor_s:>9.2f}{read / floor_s:>12,.0f}"
        f"{'1.0':>9}{floor_mb:>9.0f}",
        f"{'':<13}{'naive pandas':>14}{naive_s:>9.2f}{rows / naive_s:>12,.0f}"
        f"{naive_s / floor_s:>9.1f}{naive_mb:>9.0f}",
        f"{'':<13}{'full run':>14}{full_s:>9.2f}{rows / full_s:>12,.0f}"
        f"{full_s / floor_s:>9.1f}{full_mb:>9.0f}",
        f"{'':<13}{'incremental':>14}{inc_s:>9.2f}{'':>12}{inc_s / floor_s:>9.1f}{inc_mb:>9.0f}",
    ]
    for label, output, total in (("full", full_out, full_s), ("incremental", inc_out, inc_s)):
        steps = step_seconds(output)
        extract = sum(v for k, v in steps.items() if k.startswith("extract "))
        stage = sum(v for k, v in steps.items() if k.startswith("stage "))
        marts = sum(
            v for k, v in steps.items() if not k.startswith(("extract", "stage", "crawl", "checks"))
        )
        checks = steps.get("checks", 0)
        lines.append(
            f"{'':<13}{label + ' steps':>14}  extract {extract:.2f} s (inside the extract "
            f"step {steps.get('extract', 0):.2f} s), stage {stage:.2f} s, marts {marts:.2f} s, "
            f"checks {checks:.2f} s (+{checks / (total - checks):.0%} on the run without "
            f"them), crawl {steps.get('crawl', 0):.2f} s"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="1,10,100")
    parser.add_argument("--mysql-scale", default="10")
    parser.add_argument("--mysql-url", default="mysql://root@127.0.0.1:3306/sakila_bench")
    parser.add_argument("--no-mysql", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        {
            "floor": floor_read,
            "naive": naive_rebuild,
            "changes": apply_changes,
            "backdate": backdate,
        }[args.child[0]](*args.child[1:])
        return

    me = [str(Path(__file__).resolve())]
    cases = [("sqlite", scale) for scale in args.scales.split(",") if scale]
    if not args.no_mysql:
        cases += [("mysql", scale) for scale in args.mysql_scale.split(",") if scale]
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(
        f"{'backend':<7}{'scale':>6}{'case':>14}{'seconds':>9}{'rows/s':>12}{'x floor':>9}"
        f"{'peak MB':>9}"
    )
    for backend, scale in cases:
        with tempfile.TemporaryDirectory() as var_dir:
            env = {
                k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "LAKE_"))
            }
            env["SAKILA_VAR_DIR"] = var_dir
            if backend == "mysql":
                import MySQLdb

                name = args.mysql_url.rsplit("/", 1)[1]
                server = MySQLdb.connect(host="127.0.0.1", user="root")
                server.cursor().execute(f"DROP DATABASE IF EXISTS {name}")
                server.cursor().execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
                server.close()
                env["DATABASE_URL"] = args.mysql_url
            for line in bench(backend, scale, env, me):
                print(line, flush=True)


if __name__ == "__main__":
    main()
