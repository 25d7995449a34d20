"""A test run's own var dir, loaded before the settings (``-p tests.isolation``).

pytest-django imports the settings before any conftest.py runs, and the
settings read SAKILA_VAR_DIR once: this plugin, named in pyproject.toml's
addopts, is imported earlier, while pytest reads its options, and sets the
environment first.

- SAKILA_VAR_DIR: when it is not set, a new temporary directory for the
  session, removed at its end. The tests' SQLite database, the report cache,
  the embedded broker's file, Hypothesis' files and the lakes of subprocesses
  live there, never in the project's var/ (``make run``'s). When it is set,
  the run uses it (and keeps it).
- With pytest-xdist, each worker takes a subdirectory of it named after the
  worker (gw0, gw1, ...): its own database file, cache and broker.
- CELERY_BROKER_URL and CACHE_URL on Redis: each worker takes its own
  database number, the URL's for gw0, one less for gw1, and so on (a worker's
  tests purge their broker: they must not purge another worker's queue).
"""

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # set by xdist before it loads plugins
CREATED = "SAKILA_TESTS_VAR_DIR_CREATED"  # the directory the run made (for the workers too)
_CREATED: Path | None = None  # the directory this process made, removed at the end


def created_var_dir() -> Path | None:
    """The temporary directory this run made for SAKILA_VAR_DIR; None if it was set."""
    return Path(os.environ[CREATED]) if os.environ.get(CREATED) else None


def worker_index(worker: str = WORKER) -> int:
    """0 for gw0 (or no xdist), 1 for gw1, ..."""
    return int(worker.removeprefix("gw")) if worker.startswith("gw") else 0


def redis_url_for_worker(url: str, index: int) -> str:
    """The Redis URL with worker ``index``'s database: the URL's number minus the index."""
    match = re.fullmatch(r"(rediss?://[^/?#]*)(?:/(\d*))?(.*)", url)
    if not match or index == 0:
        return url
    base, number, rest = match.groups()
    database = int(number or 0) - index
    if database < 0:
        raise pytest.UsageError(
            f"{url} leaves no Redis database for xdist worker gw{index}: the workers use "
            f"the URL's database and the ones below it; name a database of {index} or more"
        )
    return f"{base}/{database}{rest}"


def _isolate() -> None:
    global _CREATED
    if not os.environ.get("SAKILA_VAR_DIR"):
        _CREATED = Path(tempfile.mkdtemp(prefix="sakila-tests-"))
        os.environ["SAKILA_VAR_DIR"] = os.environ[CREATED] = str(_CREATED)
    if WORKER:  # the controller's directory (inherited), then a subdirectory per worker
        var_dir = Path(os.environ["SAKILA_VAR_DIR"]) / WORKER
        var_dir.mkdir(parents=True, exist_ok=True)
        os.environ["SAKILA_VAR_DIR"] = str(var_dir)
        for name in ("CELERY_BROKER_URL", "CACHE_URL"):
            if os.environ.get(name, "").startswith(("redis://", "rediss://")):
                os.environ[name] = redis_url_for_worker(os.environ[name], worker_index())


_isolate()


def pytest_report_header(config) -> list[str]:
    lines = [f"var dir: {os.environ['SAKILA_VAR_DIR']} (SAKILA_VAR_DIR"
             + (", new for this run" if _CREATED else "") + "; a subdirectory per xdist worker)"]  # fmt: skip
    return lines


def pytest_unconfigure(config) -> None:
    if _CREATED is not None:
        shutil.rmtree(_CREATED, ignore_errors=True)
