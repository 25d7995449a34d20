import os
from decimal import Decimal

import pyarrow as pa
import pytest
from django.core.cache import cache
from django.db import connection

from lake import services
from lake.core.marts import MARTS
from lake.models import PipelineRun
from lake.pipeline.runner import pipeline_run_create, pipeline_run_execute
from lake.query.duckdb import DuckDBQueryEngine


@pytest.fixture
def lake(settings, tmp_path):
    """An empty lake (warehouse and catalog) for one test."""
    settings.LAKE_WAREHOUSE = str(tmp_path / "lake")
    settings.LAKE_CATALOG_URI = f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    settings.LAKE_FAULT_INJECTION = ""
    return tmp_path / "lake"


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
