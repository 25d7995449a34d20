"""Server time of the admin's list pages at scale, and where it goes.

Generates Sakila-shaped data (scale 10 by default: 160,000 rentals and about
176,000 payments) into a fresh SQLite file (or the MariaDB database of
``--database-url``; not timed), logs a superuser in, then requests every list
page of the admin, and the big lists with their filters, search and last
page, in this process through Django's test client: the time from request to
rendered response (middleware, queries, template), without a network or a
browser. Each page is requested once to warm up, then ``--runs`` times; the
median and the slowest wall time are printed, with the median CPU time of
this process (SQLite runs in it: on a shared machine the wall time also
measures the neighbours) and the number of queries. Pages whose CPU time is
over the budget (300 ms) are flagged.

    python bench/admin.py                      # scale 10 on SQLite
    python bench/admin.py --scale 1 --runs 3   # a quick look
    python bench/admin.py --database-url mysql://root@127.0.0.1:3306/bench_admin
    make bench-admin
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGET_MS = 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=10)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument(
        "--var-dir", type=Path, help="keep the generated SQLite database here (reused if present)"
    )
    args = parser.parse_args()

    var_dir = args.var_dir or Path(tempfile.mkdtemp(prefix="bench-admin-"))
    var_dir.mkdir(parents=True, exist_ok=True)
    os.environ["SAKILA_VAR_DIR"] = str(var_dir)
    os.environ["LAKE_REFRESH_ON_CHANGE"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sakila_site.settings")
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.contrib import admin
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from rentals import bulk

    call_command("migrate", verbosity=0)
    if not any(bulk.sakila_row_counts().values()):
        started = time.perf_counter()
        call_command("generate_sakila", f"--scale={args.scale}", "--seed=1", verbosity=0)
        print(f"generated scale {args.scale} in {time.perf_counter() - started:.0f} s (not timed)")
    counts = bulk.sakila_row_counts()
    print(
        f"database: {connection.vendor}, {counts['rental']:,} rentals, "
        f"{counts['payment']:,} payments, {counts['customer']:,} customers"
    )

    user, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)

    pages = [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in admin.site._registry
    ]
    rentals = reverse("admin:rentals_rental_changelist")
    payments = reverse("admin:rentals_payment_changelist")
    customers = reverse("admin:rentals_customer_changelist")
    last_rental_page = counts["rental"] // 100
    pages += [
        f"{rentals}?status=out",
        f"{rentals}?status=overdue",
        f"{rentals}?q=smith",
        f"{rentals}?o=2",
        f"{rentals}?p={last_rental_page}",
        f"{payments}?p={counts['payment'] // 100}",
        f"{customers}?q=mary",
        f"{customers}?active__exact=1",
    ]

    print(f"\n{'page':58} {'median':>8} {'slowest':>8} {'CPU':>7} {'queries':>7}")
    over = []
    for path in pages:
        response = client.get(path)  # warm-up
        if response.status_code != 200:  # e.g. a filter this version lacks
            print(f"{path:58} answered {response.status_code}: skipped")
            continue
        times, cpu = [], []
        for _ in range(args.runs):
            with CaptureQueriesContext(connection) as queries:
                started, started_cpu = time.perf_counter(), time.process_time()
                client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
        flag = "  OVER" if statistics.median(cpu) > BUDGET_MS else ""
        if flag:
            over.append(path)
        print(
            f"{path:58} {statistics.median(times):6.0f}ms {max(times):6.0f}ms "
            f"{statistics.median(cpu):5.0f}ms {len(queries.captured_queries):7}{flag}"
        )
    print(
        f"\n{len(pages) - len(over)} of {len(pages)} pages under {BUDGET_MS} ms of CPU (median)"
        + (f"; over: {', '.join(over)}" if over else "")
    )


if __name__ == "__main__":
    main()
