"""The embedded broker under load, next to Redis (production's broker) in the same run.

Three publishing processes and this one (through the site's Celery app, as
the web process publishes) send probe tasks while one real worker (threads
pool, 4 threads) consumes; each probe task appends its id to a file. Prints,
per broker and round: tasks sent, run, lost, duplicated, worker exits
(restarts a supervisor would have had to make) and tasks per second from
the first publish to the last task run. Redis is skipped when none answers
on 127.0.0.1:6379.

    python bench/broker.py                 # 3 rounds of 10,000 tasks per broker
    python bench/broker.py --tasks 5000 --rounds 1
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = "redis://127.0.0.1:6379/14"


def redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=10_000, help="tasks per round, in all")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="sakila-broker-"))
    os.environ.update(SAKILA_VAR_DIR=str(var_dir), DJANGO_SETTINGS_MODULE="sakila_site.settings")
    os.environ.pop("CELERY_BROKER_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from sakila_site.celery import app
    from tests.sakila_site.broker_stress import reset_broker_connections, stress

    brokers = {"embedded (SQLite)": f"sqlite:///{var_dir / 'broker.sqlite3'}"}
    if redis_answers():
        brokers["Redis (production)"] = REDIS_URL
    share = args.tasks // 4
    print(f"{args.rounds} round(s) of {share * 4:,} tasks: 3 publisher processes + this one")
    print(f"{'broker':<20} {'round':>5} {'sent':>7} {'ran':>7} {'lost':>5} {'dup':>5} "
          f"{'exits':>5} {'tasks/s':>8}")  # fmt: skip
    rates: dict[str, list[float]] = {}
    for name, url in brokers.items():
        app.conf.broker_url = url
        embedded = url.startswith("sqlite")
        app.conf.broker_transport = "sakila_site.broker:Transport" if embedded else None
        reset_broker_connections()
        app.control.purge()
        for round_ in range(1, args.rounds + 1):
            workdir = var_dir / f"round-{len(rates)}-{round_}"
            workdir.mkdir()
            result = stress(
                {**os.environ, "CELERY_BROKER_URL": url},
                workdir,
                publishers=3,
                per_publisher=share,
                in_process=share,
                timeout=1800,
            )
            exits = 0 if result.worker_exit_code is None else 1
            rates.setdefault(name, []).append(result.tasks_per_second)
            print(f"{name:<20} {round_:>5} {result.sent:>7,} {result.ran:>7,} {result.lost:>5} "
                  f"{result.duplicated:>5} {exits:>5} {result.tasks_per_second:>8.0f}")  # fmt: skip
            if exits:
                print(result.worker_log[-2000:])
    medians = {name: statistics.median(values) for name, values in rates.items()}
    for name, median in medians.items():
        ratio = ""
        if "Redis (production)" in medians and name != "Redis (production)":
            ratio = f" ({median / medians['Redis (production)']:.2f}x Redis)"
        print(f"median {name}: {median:.0f} tasks/s{ratio}")
    shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
