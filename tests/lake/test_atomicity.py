"""A run that fails or is killed at any step leaves readers and watermarks as they were."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lake import selectors
from lake.models import PipelineRun, PipelineStep, Watermark
from lake.pipeline.runner import pipeline_run_create, pipeline_run_execute
from tests.conftest import database_url
from tests.lake.conftest import lake_query, marts_contents, run_pipeline
from tests.lake.test_incremental import make_desk_changes

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
FAILING_STEPS = ["extract", "stage rental", "stage payment", "dim_date", "dim_film", "fact_sales",
                 "crawl", "publish"]  # fmt: skip


def published_state() -> tuple:
    return (
        selectors.published_snapshots(),
        dict(Watermark.objects.values_list("table", "value")),
        marts_contents(),
    )


@pytest.mark.parametrize("step", FAILING_STEPS)
@pytest.mark.slow
def test_a_failed_step_changes_nothing_readers_see_and_the_next_run_catches_up(
    sakila_lake, settings, step
):
    sakila_lake(scale=0.03, seed=5)
    make_desk_changes()
    before = published_state()

    settings.LAKE_FAULT_INJECTION = f"{step}:raise"
    failed = pipeline_run_execute(pipeline_run_create())

    assert failed.status == PipelineRun.Status.FAILED
    assert published_state() == before
    settings.LAKE_FAULT_INJECTION = ""
    caught_up = marts_contents(run_pipeline().snapshots)
    run_pipeline(full=True)
    assert caught_up == marts_contents()


@pytest.mark.slow
def test_a_run_killed_while_loading_is_reaped_and_the_next_run_catches_up(sakila_lake, settings):
    sakila_lake(scale=0.03, seed=5)
    make_desk_changes()
    before = published_state()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "LAKE_WAREHOUSE": settings.LAKE_WAREHOUSE,
        "LAKE_CATALOG_URI": settings.LAKE_CATALOG_URI,
        "LAKE_FAULT_INJECTION": "stage payment:kill",
    }
    killed = subprocess.run(
        [sys.executable, "manage.py", "lake", "run"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert killed.returncode == -9, killed.stderr
    run = PipelineRun.objects.latest("pk")
    assert run.status == PipelineRun.Status.RUNNING  # as the killed process left it
    assert run.steps.get(name="stage rental").status == PipelineStep.Status.SUCCEEDED
    assert published_state() == before

    caught_up = run_pipeline()

    run.refresh_from_db()
    assert run.status == PipelineRun.Status.FAILED
    assert run.error == "The process running it stopped (killed or crashed) during stage payment."
    assert caught_up.pk > run.pk
    incremental = marts_contents()
    run_pipeline(full=True)
    assert incremental == marts_contents()
    assert lake_query("select count(*) as n from fact_sales")[0]["n"] > 0
