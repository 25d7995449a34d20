import os
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import pyarrow as pa
import pytest
from django.core.cache import cache
from django.db import connection

from lake import services
from lake.core.marts import MARTS
from lake.models import PipelineRun
from lake.pipeline.runner import pipeline_run_create, pipeline_run_execute
from lake.query.duckdb import DuckDBQueryEngine
from rentals.generator import generate_sakila

T = TypeVar("T")


@pytest.fixture
def lake(settings, tmp_path, lake_warehouse):
    """An empty lake (warehouse and catalog) for one test."""
    shutil.rmtree(lake_warehouse, ignore_errors=True)
    settings.LAKE_WAREHOUSE = str(lake_warehouse)
    # The catalog's URI is the test's own: no catalog or query source cached for
    # another test's lake (they are kept per URI) is used for this one.
    settings.LAKE_CATALOG_URI = f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    settings.LAKE_FAULT_INJECTION = ""
    return lake_warehouse


@pytest.fixture
def built_lake(lake, built_states, settings) -> Callable[[tuple, Callable[[], T]], T]:
    """``built_lake(key, build)``: ``build()``'s value, the state built once per session.

    The first test to ask for ``key`` runs ``build`` (rows, pipeline runs) in its
    database and lake; later ones get a copy of what it left, restored in theirs.
    ``build`` returns plain values (run ids). Ask for it before anything else
    makes rows (the state is built and restored in an empty database)."""

    def restore_or_build(key: tuple, build: Callable[[], T]) -> T:
        catalog = Path(settings.LAKE_CATALOG_URI.removeprefix("sqlite:///"))
        value = built_states.restore_or_build(key, build, warehouse=lake, catalog=catalog)
        cache.clear()  # report results kept for the same snapshots by an earlier test
        return value

    return restore_or_build


@pytest.fixture
def sakila_lake(built_lake) -> Callable[..., PipelineRun]:
    """``sakila_lake(scale=, seed=)``: ``generate_sakila(scale=, seed=)`` and a pipeline
    run (the first, full), built once per session (``built_lake``); the run."""

    def generate_and_run(*, scale: float, seed: int) -> PipelineRun:
        def build() -> int:
            generate_sakila(scale=scale, seed=seed)
            return run_pipeline().pk

        return PipelineRun.objects.get(pk=built_lake(("sakila", scale, seed), build))

    return generate_and_run


@pytest.fixture
def worker_alive(db) -> None:
    """A Celery worker has just beaten (the panel shows no "no worker" banner)."""
    services.worker_heartbeat_record(hostname="celery@tests", pid=os.getpid())


@pytest.fixture
def empty_cache():
    """No report results cached by an earlier test (the cache outlives tests)."""
    cache.clear()
    yield
    cache.clear()


def run_pipeline(*, full: bool = False) -> PipelineRun:
    run = pipeline_run_execute(pipeline_run_create(full=full))
    failing = [(check.name, check.rows) for check in run.checks.exclude(status="passed")]
    assert run.status == PipelineRun.Status.SUCCEEDED, (run.error, failing)
    return run


def lake_query(sql: str, snapshots: dict | None = None) -> list[dict]:
    return DuckDBQueryEngine(snapshots).execute(sql).to_pylist()


def oltp_query(sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def marts_contents(snapshots: dict | None = None) -> dict[str, list[tuple]]:
    """Every mart's rows, sorted, at the published (or given) snapshots."""
    contents = {}
    for mart in MARTS:
        table: pa.Table = DuckDBQueryEngine(snapshots).execute(f"select * from {mart.name}")
        contents[mart.name] = sorted((tuple(row.values()) for row in table.to_pylist()), key=repr)
    return contents


def money(value) -> Decimal:
    """A money total from either database (SQLite sums REAL), to the cent."""
    return Decimal(str(value)).quantize(Decimal("0.01"))
