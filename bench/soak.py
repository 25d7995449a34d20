"""A busy day (or year) of event-driven runs: does the lake stay as fast as a fresh one?

On the embedded default, in a fresh var directory: the database is generated
at the scale asked (to today) and published by a full run; then each cycle
is one desk rental and one incremental run, with maintenance on (it runs
after every ``LAKE_MAINTAIN_AFTER_RUNS`` runs, as the worker runs it).

Every ``--every`` cycles, two lakes of the same data are measured side by
side, each in a child process of its own:

- soak: the lake the cycles built;
- fresh: a copy of the soak's database, published by one full run.

For each: the incremental run (one new rental), median of 5; the report
latency (3 reports, 5 times each, result cache bypassed), median; ``count(*),
sum(amount)`` on fact_sales, median of 5; files and bytes under the
warehouse. The soak's own cycle times are printed too, and the runs inside
the retention window (time travel reaches each; their snapshots and raw
increments are kept, so the soak's files grow with them).

The retention window is scaled with the soak (``--retention-seconds``): a
soak compresses days of runs into minutes, and a window of 7 days would keep
every snapshot it makes. What the window bounds is the runs inside it.

    python bench/soak.py                           # 1,000 cycles at scale 1
    python bench/soak.py --scale 10 --cycles 200
    python bench/soak.py --cycles 100 --every 50   # a quick look
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ("sales_by_month", "top_films", "sales_by_store")


def django_setup(var_dir: str, retention_seconds: float, maintain_after: int) -> None:
    os.environ.update(
        SAKILA_VAR_DIR=var_dir,
        DJANGO_SETTINGS_MODULE="sakila_site.settings",
        DEBUG="true",
        LAKE_REFRESH_ON_CHANGE="false",  # the soak runs each refresh itself
        LAKE_RETENTION_DAYS=str(retention_seconds / 86400),
        LAKE_MAINTAIN_AFTER_RUNS=str(maintain_after),
    )
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "LAKE_WAREHOUSE", "LAKE_CATALOG_URI"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def rent_one() -> None:
    """One rental at the desk's service, by a random active customer, of a free copy."""
    from django.core.exceptions import ValidationError

    from rentals import selectors, services
    from rentals.models import Customer, Staff

    for _ in range(20):  # a customer the desk refuses (owes too much): another one
        staff = Staff.objects.filter(active=True).order_by("?").first()
        film = selectors.film_available_list(store=staff.store).order_by("?").first()
        customer = Customer.objects.filter(active=True).order_by("?").first()
        try:
            services.rental_create(customer=customer, film=film, staff=staff)
            return
        except ValidationError:
            continue
    raise SystemExit("the desk refused 20 rentals in a row")


def incremental_run() -> float:
    """Seconds of one incremental run as the worker runs it, maintenance check included."""
    from lake.models import PipelineRun
    from lake.pipeline.runner import pipeline_run_create
    from lake.tasks import pipeline_run_task

    started = time.perf_counter()
    run = pipeline_run_create(trigger=PipelineRun.Trigger.EVENT)
    pipeline_run_task(run.pk)
    run.refresh_from_db()
    seconds = time.perf_counter() - started
    if run.status != PipelineRun.Status.SUCCEEDED:
        raise SystemExit(f"run {run.pk} failed: {run.error}")
    maintenance = PipelineRun.objects.filter(kind=PipelineRun.Kind.MAINTENANCE, pk__gt=run.pk)
    for queued in maintenance.filter(status=PipelineRun.Status.QUEUED):
        run_to_end(queued)
    return seconds


def run_to_end(run) -> None:
    from lake.engines import get_engine
    from lake.models import PipelineRun

    get_engine(run.engine).start(run)
    run.refresh_from_db()
    if run.status != PipelineRun.Status.SUCCEEDED:
        raise SystemExit(f"maintenance run {run.pk} failed: {run.error}")


def warehouse_size(var_dir: str) -> tuple[int, int]:
    files = [p for p in (Path(var_dir) / "lake").rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def measure(var_dir: str) -> dict:
    """In a child process: 5 cycles timed, reports and the count/sum floor, sizes."""
    from django.core.cache import cache

    from lake import selectors
    from lake.query import get_query_engine
    from reports.registry import report_get, report_run

    runs = []
    for _ in range(5):
        rent_one()
        runs.append(incremental_run())
    cache.clear()
    report_ms = []
    for name in REPORTS:
        report = report_get(name)
        params = {param.name: param.default for param in report.params}
        for _ in range(5):
            started = time.perf_counter()
            report_run(report, params, refresh=True)
            report_ms.append((time.perf_counter() - started) * 1000)
    snapshots = selectors.published_snapshots()
    floor_ms = []
    for _ in range(5):
        started = time.perf_counter()
        get_query_engine(snapshots).execute("select count(*), sum(amount) from fact_sales")
        floor_ms.append((time.perf_counter() - started) * 1000)
    files, size = warehouse_size(var_dir)
    return {
        "readable": selectors.readable_runs().count(),
        "run_s": statistics.median(runs),
        "report_ms": statistics.median(report_ms),
        "floor_ms": statistics.median(floor_ms),
        "files": files,
        "bytes": size,
    }


def cycles(count: int) -> list[float]:
    """In a child process: ``count`` cycles of one rental and one incremental run."""
    return [(rent_one(), incremental_run())[1] for _ in range(count)]


def child(mode: str, var_dir: str, args, *extra: str) -> dict | list:
    command = [sys.executable, __file__, "--child", mode, var_dir,
               "--retention-seconds", str(args.retention_seconds),
               "--maintain-after", str(args.maintain_after), *extra]  # fmt: skip
    process = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if process.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{process.stdout[-3000:]}\n{process.stderr[-3000:]}")
    return json.loads(process.stdout.strip().splitlines()[-1])


def setup(var_dir: str, scale: str, full_only: bool) -> dict:
    """Migrate, generate (or reuse the copied database) and publish a full run."""
    from django.core.management import call_command

    from lake.models import CrawledTable, PipelineRun, Watermark
    from lake.pipeline.runner import pipeline_run_create, pipeline_run_execute

    call_command("migrate", verbosity=0)
    if full_only:  # the copied database's lake history is the soak lake's, not this one's
        for model in (Watermark, CrawledTable, PipelineRun):
            model.objects.all().delete()
    else:
        call_command("generate_sakila", f"--scale={scale}", "--end=today", verbosity=0)
        age_rows()
    run = pipeline_run_execute(pipeline_run_create(full=True))
    assert run.status == "succeeded", run.error
    return {"full_run_s": run.seconds}


def age_rows() -> None:
    """Date the generated rows' last_update a day back, as a database in use has
    them: rows written within LAKE_EXTRACT_OVERLAP_SECONDS are read again by
    every run, so freshly generated ones would make the soak's first minutes
    extract every row."""
    from datetime import timedelta

    from django.apps import apps
    from django.db import transaction
    from django.utils import timezone

    yesterday = timezone.now() - timedelta(days=1)
    with transaction.atomic():
        for model in apps.get_app_config("rentals").get_models():
            if any(field.name == "last_update" for field in model._meta.fields):
                model.objects.update(last_update=yesterday)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", default="1")
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--every", type=int, default=50)
    parser.add_argument("--retention-seconds", type=float, default=60.0)
    parser.add_argument("--maintain-after", type=int, default=25)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, var_dir = args.child
        django_setup(var_dir, args.retention_seconds, args.maintain_after)
        if mode == "setup":
            result = setup(var_dir, args.scale, full_only=False)
        elif mode == "fresh":
            result = setup(var_dir, args.scale, full_only=True)
        elif mode == "cycles":
            result = cycles(args.count)
        else:
            result = measure(var_dir)
        print(json.dumps(result))
        return

    scratch = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    soak_dir = str(scratch / "soak")
    print(
        f"scale {args.scale}, {args.cycles} cycles, measured every {args.every}; retention "
        f"{args.retention_seconds:g} s, maintenance after {args.maintain_after} runs; {scratch}"
    )
    child("setup", soak_dir, args, "--scale", args.scale)
    print(
        f"{'cycles':>7}{'cycle p50 s':>12}{'run s':>8}{'fresh':>8}{'ratio':>7}"
        f"{'report ms':>10}{'fresh':>7}{'ratio':>7}{'sum ms':>8}{'fresh':>7}{'ratio':>7}"
        f"{'files':>7}{'fresh':>7}{'ratio':>7}{'MB':>7}{'fresh':>7}{'ratio':>7}{'window':>7}",
        flush=True,
    )
    done = 0
    while done < args.cycles:
        batch = min(args.every, args.cycles - done)
        times = child("cycles", soak_dir, args, "--count", str(batch))
        done += batch
        soak = child("measure", soak_dir, args)
        done += 5  # the measured cycles are cycles too
        fresh_dir = scratch / f"fresh-{done}"
        fresh_dir.mkdir()
        shutil.copy(Path(soak_dir) / "sakila.sqlite3", fresh_dir / "sakila.sqlite3")
        child("fresh", str(fresh_dir), args)
        fresh = child("measure", str(fresh_dir), args)
        shutil.rmtree(fresh_dir)

        def ratio(key: str, soak=soak, fresh=fresh) -> str:
            return f"{soak[key] / fresh[key]:>7.2f}"

        print(
            f"{done:>7}{statistics.median(times):>12.2f}"
            f"{soak['run_s']:>8.2f}{fresh['run_s']:>8.2f}{ratio('run_s')}"
            f"{soak['report_ms']:>10.0f}{fresh['report_ms']:>7.0f}{ratio('report_ms')}"
            f"{soak['floor_ms']:>8.0f}{fresh['floor_ms']:>7.0f}{ratio('floor_ms')}"
            f"{soak['files']:>7}{fresh['files']:>7}{ratio('files')}"
            f"{soak['bytes'] / 1e6:>7.1f}{fresh['bytes'] / 1e6:>7.1f}{ratio('bytes')}"
            f"{soak['readable']:>7}",
            flush=True,
        )
    shutil.rmtree(scratch)


if __name__ == "__main__":
    main()
