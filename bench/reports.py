"""Report latency on the embedded default: each report cold and cached.

A fresh var directory (SQLite, the local lake) is generated at the scale
asked (not timed) and ``manage.py lake run --full`` publishes it. Then, for
each report, a child process of its own:

- first: the report's first call in a fresh process (the marts' Iceberg
  metadata read and their scans planned, then the query), result cache
  bypassed;
- cold: ``report_run(..., refresh=True)`` again and again, each call a new
  query engine and connection, the result cache bypassed (the per-process
  file lists of the snapshots stay known);
- cached: ``report_run`` answered from the cache (the file cache under
  VAR_DIR).

The floor is ``SELECT count(*) FROM fact_sales`` through the same engine.

    python bench/reports.py                  # scale 100, 30 calls each
    python bench/reports.py --scale 1 --repeat 10
    python bench/reports.py --var-dir DIR    # reuse a var directory already run
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOOR = "count(*) floor"


def child(args: list[str], env: dict) -> str:
    process = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{process.stdout}\n{process.stderr}")
    return process.stdout


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(name: str, repeat: int) -> None:
    """In a fresh process: print {first, cold, cached} in milliseconds as JSON."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sakila_site.settings")
    import django

    django.setup()
    from lake import selectors
    from lake.query import get_query_engine
    from reports.registry import REPORTS, report_get, report_run

    if name == "list":
        print(json.dumps(list(REPORTS)))
        return

    def timed(call) -> float:
        started = time.perf_counter()
        call()
        return (time.perf_counter() - started) * 1000

    if name == FLOOR:
        snapshots = selectors.published_snapshots()

        def call():
            get_query_engine(snapshots).execute("select count(*) from fact_sales")

        cold_call, cached_call = call, None  # nothing to cache: the floor is the query
    else:
        report = report_get(name)
        params = {param.name: param.default for param in report.params}

        def cold_call():
            report_run(report, params, refresh=True)

        def cached_call():
            assert report_run(report, params).from_cache

    first = timed(cold_call)
    cold = [timed(cold_call) for _ in range(repeat)]
    cached = [timed(cached_call) for _ in range(repeat)] if cached_call else []
    print(json.dumps({"first": first, "cold": cold, "cached": cached}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", default="100")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--var-dir", help="a var directory with a published lake to reuse")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        measure(args.child[0], int(args.child[1]))
        return

    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as scratch:
        var_dir = args.var_dir or scratch
        env = {**os.environ, "SAKILA_VAR_DIR": var_dir, "DJANGO_SETTINGS_MODULE": ""}
        env.pop("DJANGO_SETTINGS_MODULE")
        env.pop("DATABASE_URL", None)  # the embedded default
        env.pop("CACHE_URL", None)
        if not args.var_dir:
            started = time.perf_counter()
            child([python, "manage.py", "migrate", "-v", "0"], env)
            child([python, "manage.py", "generate_sakila", "--scale", args.scale], env)
            child([python, "manage.py", "lake", "run", "--full"], env)
            seconds = time.perf_counter() - started
            print(f"generated and published scale {args.scale} in {seconds:.0f} s")
        me = str(Path(__file__).resolve())
        names = json.loads(child([python, me, "--child", "list", "0"], env))

        print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
        print(f"{args.repeat} calls each, milliseconds\n")
        print(
            "| report | first call (new process) | cold p50 | cold p95 | cached p50 | cached p95 |"
        )
        print("|---|---:|---:|---:|---:|---:|")
        for name in [FLOOR, *names]:
            figures = json.loads(child([python, me, "--child", name, str(args.repeat)], env))
            cold, cached = figures["cold"], figures["cached"]
            hit = (
                f"{statistics.median(cached):.1f} | {percentile(cached, 0.95):.1f}"
                if cached
                else "| "
            )
            print(
                f"| {name} | {figures['first']:.0f} | {statistics.median(cold):.0f} "
                f"| {percentile(cold, 0.95):.0f} | {hit} |"
            )


if __name__ == "__main__":
    main()
