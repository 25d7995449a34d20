"""A broker under load: publishers in several processes and a real worker at once.

Used by tests/sakila_site/test_broker.py (CI) and bench/broker.py (bigger
numbers, several brokers side by side). The worker runs ``probe`` tasks, each
of which appends its id to a file: every id must be there exactly once.
"""

import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from celery import shared_task

ROOT = Path(__file__).resolve().parents[2]
PROBE_TASK = "tests.broker_probe"
PROBE_LOG_ENV = "SAKILA_BROKER_PROBE_LOG"

# A publisher process: sends its share of probe tasks through the site's Celery app.
PUBLISHER = """
import os, sys
import django
django.setup()
from sakila_site.celery import app
name, count = sys.argv[1], int(sys.argv[2])
with app.producer_or_acquire() as producer:
    for seq in range(count):
        app.send_task({task!r}, args=(name, seq), producer=producer)
"""


@shared_task(name=PROBE_TASK)
def broker_probe(publisher: str, seq: int) -> None:
    """Record that this task ran (one short O_APPEND write: whole lines, never interleaved)."""
    fd = os.open(os.environ[PROBE_LOG_ENV], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{publisher}:{seq}\n".encode())
    finally:
        os.close(fd)


def reset_broker_connections() -> None:
    """Forget pooled broker connections, after the app's broker changed or a worker stopped.

    Pooled connections keep the broker they were made for, and a stopped
    worker closes the pools kombu keeps per broker."""
    from kombu import pools

    from sakila_site.celery import app

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@dataclass
class StressResult:
    sent: int
    ran: int
    lost: int
    duplicated: int
    seconds: float
    worker_exit_code: int | None  # None: still running at the end, as it should be
    worker_log: str = field(repr=False, default="")

    @property
    def tasks_per_second(self) -> float:
        return self.ran / self.seconds if self.seconds else 0.0


def worker_command(concurrency: int = 4) -> list[str]:
    return [
        sys.executable, "-m", "celery", "-A", "sakila_site", "worker", "--pool", "threads",
        "--concurrency", str(concurrency), "--loglevel", "warning",
        "--include", "tests.sakila_site.broker_stress",
    ]  # fmt: skip


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        worker_command(), cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT
    )


def wait_for_probes(log: Path, expected: int, timeout: float) -> list[str]:
    deadline = time.monotonic() + timeout
    lines: list[str] = []
    while time.monotonic() < deadline:
        lines = log.read_text().splitlines() if log.exists() else []
        if len(lines) >= expected:
            time.sleep(1)  # a duplicate would come late: give it a moment
            return log.read_text().splitlines()
        time.sleep(0.2)
    return lines


def stress(
    env: dict[str, str],
    workdir: Path,
    *,
    publishers: int = 3,
    per_publisher: int = 1250,
    in_process: int = 1250,
    timeout: float = 600,
) -> StressResult:
    """Publish from ``publishers`` processes and this one while one worker consumes.

    ``env`` is the environment of the worker and publishers (broker, settings);
    this process publishes through ``sakila_site.celery.app`` as configured."""
    from sakila_site.celery import app

    probe_log = workdir / "probes.log"
    env = {**env, PROBE_LOG_ENV: str(probe_log), "PYTHONPATH": str(ROOT)}
    env.setdefault("DJANGO_SETTINGS_MODULE", "sakila_site.settings")
    worker_log = workdir / "worker.log"
    worker = start_worker(env, worker_log)
    started = time.monotonic()
    try:
        script = PUBLISHER.format(task=PROBE_TASK)
        senders = [
            subprocess.Popen(
                [sys.executable, "-c", script, f"p{n}", str(per_publisher)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for n in range(publishers)
        ]
        with app.producer_or_acquire() as producer:
            for seq in range(in_process):
                app.send_task(PROBE_TASK, args=("web", seq), producer=producer)
        for sender in senders:
            output, _ = sender.communicate(timeout=timeout)
            if sender.returncode:
                raise AssertionError(f"a publisher failed:\n{output}")
        sent = publishers * per_publisher + in_process
        lines = wait_for_probes(probe_log, sent, timeout)
        seconds = time.monotonic() - started
        exit_code = worker.poll()
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    counts = Counter(lines)
    expected = {f"p{n}:{seq}" for n in range(publishers) for seq in range(per_publisher)}
    expected |= {f"web:{seq}" for seq in range(in_process)}
    return StressResult(
        sent=sent,
        ran=len(lines),
        lost=len(expected - counts.keys()),
        duplicated=sum(count - 1 for count in counts.values() if count > 1),
        seconds=seconds,
        worker_exit_code=exit_code,
        worker_log=worker_log.read_text(),
    )
