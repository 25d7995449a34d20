"""How soon a rental made at the desk shows in the lake, with the worker running.

On the embedded default (SQLite, the filesystem broker, the local engine) in
a fresh var directory at scale 1: a Celery worker runs in a child process,
the desk is driven through Django's test client as a logged-in clerk, and
the lake is read with DuckDB as the reports read it.

- single: 20 rentals one at a time; for each, the seconds from the desk's
  response (the rental committed) to its row in fact_sales;
- bursts: 3 bursts of 50 rentals, each rental's seconds likewise;
- baseline: the same kind of change published by one foreground
  incremental run (``lake run``), the floor that event-driven freshness adds
  its debounce and queueing to.

    python bench/freshness.py
    python bench/freshness.py --single 10 --bursts 1 --burst-size 20   # a quick look
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--single", type=int, default=20)
    parser.add_argument("--bursts", type=int, default=3)
    parser.add_argument("--burst-size", type=int, default=50)
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="sakila-freshness-"))
    os.environ.update(
        SAKILA_VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="sakila_site.settings", DEBUG="true"
    )
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("CELERY_BROKER_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    print(f"var dir {var_dir}: migrate, generate scale 1, first lake run")
    call_command("migrate", verbosity=0)
    call_command("generate_sakila", scale=1, verbosity=0)
    call_command("setup_demo", verbosity=0)  # the first run and the demo clerk

    baseline = measure_baseline()
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "sakila_site", "worker", "--pool", "threads",
         "--concurrency", "4", "--loglevel", "warning"],
        cwd=ROOT, env=os.environ.copy(),
    )  # fmt: skip
    try:
        time.sleep(3)  # the worker connects
        single = [seconds for batch in rent_and_wait(1, args.single) for seconds in batch]
        bursts = [
            seconds for batch in rent_and_wait(args.burst_size, args.bursts) for seconds in batch
        ]
    finally:
        worker.terminate()
        worker.wait(timeout=60)

    from lake.models import PipelineRun

    event_runs = PipelineRun.objects.filter(trigger=PipelineRun.Trigger.EVENT).count()
    print()
    print(f"{'case':<34}{'rentals':>8}{'p50 s':>8}{'p95 s':>8}{'max s':>8}{'p50/base':>10}")
    for name, values in (
        ("single rentals", single),
        (f"bursts of {args.burst_size}", bursts),
    ):
        p50 = statistics.median(values)
        print(
            f"{name:<34}{len(values):>8}{p50:>8.2f}{percentile(values, 0.95):>8.2f}"
            f"{max(values):>8.2f}{p50 / baseline:>10.1f}"
        )
    print(f"{'baseline: one incremental run':<34}{'':>8}{baseline:>8.2f}")
    print(f"event-triggered runs: {event_runs} for {args.single + args.bursts} desk sessions")


def measure_baseline() -> float:
    """Seconds of a foreground incremental run publishing a few desk rentals."""
    from lake.pipeline.runner import pipeline_run_create, pipeline_run_execute

    client, rent = desk_client()
    for _ in range(3):
        rent(client)
    started = time.perf_counter()
    run = pipeline_run_execute(pipeline_run_create())
    assert run.status == "succeeded", run.error
    return time.perf_counter() - started


def desk_client():
    from django.contrib.auth import get_user_model
    from django.test import Client

    from rentals import selectors
    from rentals.models import Customer

    clerk = get_user_model().objects.get(username="clerk")
    store = selectors.staff_for_user(clerk).store
    client = Client()
    client.force_login(clerk)
    customers = iter(
        Customer.objects.filter(active=True).order_by("?").values_list("pk", flat=True)
    )

    def rent(client) -> int:
        film = selectors.film_available_list(store=store).order_by("?").first()
        response = client.post("/desk/rent/", {"customer": next(customers), "film": film.pk})
        assert response.status_code == 302, response.content[:500]
        return int(response["Location"].rstrip("/").rsplit("/", 1)[1])

    return client, rent


def rent_and_wait(size: int, batches: int) -> list[list[float]]:
    """Rent ``size`` films at the desk ``batches`` times; each rental's seconds
    from commit to fact_sales."""
    from lake.query.duckdb import DuckDBQueryEngine

    client, rent = desk_client()
    results = []
    for _ in range(batches):
        committed = {}
        for _ in range(size):
            rental_id = rent(client)
            committed[rental_id] = time.perf_counter()
        seen: dict[int, float] = {}
        deadline = time.perf_counter() + 120
        while len(seen) < len(committed) and time.perf_counter() < deadline:
            ids = ", ".join(str(i) for i in committed if i not in seen)
            rows = DuckDBQueryEngine().execute(
                f"select rental_id from fact_sales where rental_id in ({ids})"
            )
            now = time.perf_counter()
            for rental_id in rows.column("rental_id").to_pylist():
                seen[rental_id] = now
            time.sleep(0.05)
        missing = set(committed) - set(seen)
        if missing:
            raise SystemExit(f"rentals never reached fact_sales: {sorted(missing)[:10]}")
        results.append([seen[i] - committed[i] for i in committed])
        time.sleep(1)
    return results


if __name__ == "__main__":
    main()
