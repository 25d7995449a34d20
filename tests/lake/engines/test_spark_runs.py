"""LAKE_ENGINE=spark for real: the job scripts lake deploy uploads, with the job
library it builds, run with spark-submit on local PySpark and Iceberg's Spark
runtime, reading the rental database over JDBC and writing the catalog the
local engine uses. Every staging and mart table must equal the local engine's,
row for row (and, in the marts, to the cent): on the real Sakila data and on
generated data, full and incremental (new, changed and deleted rows), after an
extract killed mid-way and retried. Only AWS has stand-ins here: none is needed.
"""

import contextlib
import os
import signal
import threading
import time
from datetime import datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from lake import selectors
from lake.catalog import load_table
from lake.core.checks import load_checks
from lake.engines import get_engine
from lake.models import PipelineRun
from lake.pipeline.runner import pipeline_run_create, pipeline_run_execute
from lake.pipeline.schemas import STAGED_MODELS, table_name
from rentals.generator import generate_sakila
from tests.lake.conftest import marts_contents
from tests.lake.test_incremental import DELETES, make_desk_changes

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

AS_OF = datetime(2006, 3, 1)  # both engines accrue open rentals' fees to the same time


@pytest.fixture
def spark_lake(lake, settings, tmp_path):
    """An empty lake that LAKE_ENGINE=spark runs on, Spark kept small for 2 cores."""
    settings.LAKE_ENGINE = "spark"
    settings.SPARK_MASTER = "local[2]"
    settings.SPARK_RUN_DIR = tmp_path / "spark"
    settings.SPARK_SUBMIT_OPTIONS = "--conf spark.ui.enabled=false"
    return lake


def spark_run(*, full: bool = False) -> PipelineRun:
    run = pipeline_run_create(full=full)
    get_engine("spark").start(run, as_of=AS_OF)
    run.refresh_from_db()
    return run


def local_full_run(settings) -> PipelineRun:
    settings.LAKE_ENGINE = "local"
    try:
        run = pipeline_run_execute(pipeline_run_create(full=True), as_of=AS_OF)
    finally:
        settings.LAKE_ENGINE = "spark"
    assert run.status == PipelineRun.Status.SUCCEEDED, run.error
    return run


def staging_contents(snapshots: dict) -> dict[str, tuple]:
    """Every staging table at a run's snapshots, read by pyiceberg: its schema and
    its rows, sorted (a multiset: equal ones are EXCEPT ALL both ways)."""
    contents = {}
    for model in STAGED_MODELS:
        identifier = f"staging.{table_name(model)}"
        rows = load_table(identifier).scan(snapshot_id=snapshots[identifier]).to_arrow()
        contents[identifier] = (rows.schema, sorted(map(repr, rows.to_pylist())))
    return contents


def assert_same_lake(spark: PipelineRun, local: PipelineRun) -> None:
    """Spark's tables, read by DuckDB and pyiceberg, equal the local engine's."""
    assert spark.status == PipelineRun.Status.SUCCEEDED, spark.error
    assert set(spark.snapshots) == set(local.snapshots)
    spark_marts, local_marts = marts_contents(spark.snapshots), marts_contents(local.snapshots)
    for mart, rows in local_marts.items():
        assert spark_marts[mart] == rows, mart
    spark_staging, local_staging = (
        staging_contents(spark.snapshots),
        staging_contents(local.snapshots),
    )
    for table, (schema, rows) in local_staging.items():
        assert spark_staging[table][0] == schema, table
        assert spark_staging[table][1] == rows, table


def kill_extract_midway(run_dir: Path, raw_folder: Path) -> threading.Thread:
    """Kill the next run's extract job (its process group, SIGKILL) once it has
    written a table's rows to the raw zone: the run fails part-way through."""
    runs_before = set(run_dir.glob("run-*"))
    raw_before = set(raw_folder.glob("*/run_id=*"))

    def kill() -> None:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            pids = [run / "extract.pid" for run in set(run_dir.glob("run-*")) - runs_before]
            if pids and pids[0].exists() and set(raw_folder.glob("*/run_id=*")) - raw_before:
                with contextlib.suppress(ProcessLookupError):  # ended already: the test says so
                    os.killpg(int(pids[0].read_text()), signal.SIGKILL)
                return
            time.sleep(0.2)

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread


def test_on_the_real_sakila_data_spark_equals_the_local_engine(
    spark_lake, settings, real_sakila_dir
):
    call_command("load_sakila", str(real_sakila_dir), stdout=StringIO())

    out = StringIO()
    call_command("lake", "run", "--full", "--as-of", AS_OF.isoformat(" "), stdout=out)
    spark_full = PipelineRun.objects.get()
    assert "succeeded" in out.getvalue() and spark_full.engine == "spark"
    assert spark_full.steps.get(name="stage language").rows == 6
    # The marts job ran the local engine's checks, on Spark, and all passed.
    statuses = list(spark_full.checks.values_list("status", flat=True))
    assert statuses == ["passed"] * len(load_checks())
    assert_same_lake(spark_full, local_full_run(settings))

    make_desk_changes()
    for delete in DELETES.values():
        delete()
    # From the snapshots the local run published: Spark reads ours.
    incremental = spark_run()
    assert not incremental.full
    assert incremental.steps.get(name="stage rental").rows >= 4  # 3 new, 1 deleted at least
    assert_same_lake(incremental, local_full_run(settings))


def test_on_generated_data_a_killed_extract_retried_equals_a_local_full_run(spark_lake, settings):
    generate_sakila(scale=0.05, seed=9)
    local_full_run(settings)
    make_desk_changes()
    DELETES["customer"]()
    DELETES["film"]()

    # Killed part-way: the run fails, the lake stays as readers saw it (the local run's).
    killer = kill_extract_midway(settings.SPARK_RUN_DIR, spark_lake / "raw")
    killed = spark_run()
    killer.join()
    assert killed.status == PipelineRun.Status.FAILED
    assert "The Spark job extract failed (exit status" in killed.error
    retried = spark_run()  # catches up from the same watermarks

    assert not retried.full
    assert retried.steps.get(name="stage film").rows >= 1
    assert_same_lake(retried, local_full_run(settings))

    # A planted duplicate: the marts job's checks fail, nothing is published.
    published = selectors.published_run()
    make_desk_changes()
    settings.LAKE_FAULT_INJECTION = "marts:duplicate"
    audited = spark_run()
    settings.LAKE_FAULT_INJECTION = ""
    assert audited.status == PipelineRun.Status.CHECKS_FAILED, audited.error
    grain = audited.checks.get(table="fact_sales", kind="grain")
    assert (grain.status, grain.failing) == ("failed", 1)
    assert selectors.published_run() == published
