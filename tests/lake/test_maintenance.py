"""Maintenance: the lake stays small and fast, and loses nothing readers can reach."""

import os
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from lake import selectors, services
from lake.catalog import lake_tables, load_table
from lake.core.table_maintenance import referenced_files
from lake.core.tables import data_files
from lake.engines import current_engine
from lake.models import CrawledTable, PipelineRun
from lake.pipeline.maintain import maintenance_run_execute
from lake.pipeline.runner import pipeline_run_create, pipeline_run_execute
from reports.filters import time_travel_reach, time_travel_runs
from reports.registry import report_get, report_run, report_run_get
from tests.lake.conftest import marts_contents, run_pipeline
from tests.lake.test_atomicity import published_state
from tests.lake.test_incremental import make_desk_changes

pytestmark = pytest.mark.django_db(transaction=True)


def maintain() -> PipelineRun:
    run = maintenance_run_execute(
        pipeline_run_create(kind=PipelineRun.Kind.MAINTENANCE), current_engine()
    )
    assert run.status == PipelineRun.Status.SUCCEEDED, run.error
    return run


@pytest.fixture
def busy_lake(built_lake, sakila_lake) -> Callable[..., list[PipelineRun]]:
    """``busy_lake(runs)``: a small lake after a full run and ``runs`` incremental runs
    of desk changes; the runs. Each is built once per session (``built_lake``), from
    the one with a run less."""

    def busy(runs: int = 3) -> list[PipelineRun]:
        if runs == 0:
            return [sakila_lake(scale=0.03, seed=5)]

        def build() -> list[int]:
            published = busy(runs - 1)
            make_desk_changes()
            published.append(run_pipeline())
            return [run.pk for run in published]

        return [PipelineRun.objects.get(pk=pk) for pk in built_lake(("busy", runs), build)]

    return busy


def files_under(path: Path) -> int:
    return sum(1 for file in path.rglob("*") if file.is_file())


def live_data_files() -> int:
    snapshots = selectors.published_snapshots()
    return sum(len(data_files(load_table(t), snapshots.get(t))) for t in lake_tables())


def age(runs: list[PipelineRun], days: float) -> None:
    """Make runs look as if they finished ``days`` ago."""
    for run in runs:
        PipelineRun.objects.filter(pk=run.pk).update(
            finished_at=timezone.now() - timedelta(days=days)
        )


@pytest.mark.slow
def test_maintenance_compacts_and_every_run_in_the_window_reads_as_before(lake, busy_lake):
    runs = busy_lake()
    before = {run.pk: marts_contents(run.snapshots) for run in runs}
    files_before = live_data_files()

    maintenance = maintain()

    assert selectors.published_run() == maintenance
    assert live_data_files() < files_before
    assert marts_contents() == before[runs[-1].pk]
    for run in runs:  # all inside the 7-day window: time travel works for each
        run.refresh_from_db()
        assert not run.snapshots_expired
        assert marts_contents(run.snapshots) == before[run.pk]
    steps = {step.name: step for step in maintenance.steps.all()}
    assert "compacted" in steps["maintain staging.rental"].log
    assert steps["raw retention"].status == "succeeded"


@pytest.mark.slow
def test_snapshots_of_runs_before_the_window_are_expired_and_their_files_removed(lake, busy_lake):
    runs = busy_lake()
    old, recent = runs[:2], runs[2:]
    age(old, days=10)
    recent_contents = {run.pk: marts_contents(run.snapshots) for run in recent}
    files_before = files_under(lake)

    maintenance = maintain()

    for run in old:
        run.refresh_from_db()
        assert run.snapshots_expired
    for run in recent:
        run.refresh_from_db()
        assert not run.snapshots_expired
        assert marts_contents(run.snapshots) == recent_contents[run.pk]
    assert files_under(lake) < files_before
    expired = {s for run in old for s in run.snapshots.values()} - {
        s for run in [*recent, maintenance] for s in run.snapshots.values()
    }
    kept = {s.snapshot_id for t in lake_tables() for s in load_table(t).snapshots()}
    assert expired and not expired & kept
    log = maintenance.steps.get(name="retire runs").log
    assert f"time travel reaches back to run {recent[0].pk}" in log


@pytest.mark.slow
def test_snapshots_no_run_published_are_expired_even_inside_the_window(lake, settings, busy_lake):
    runs = busy_lake()
    make_desk_changes()
    settings.LAKE_FAULT_INJECTION = "fact_sales:raise"  # staging merged, never published
    failed = pipeline_run_execute(pipeline_run_create())
    assert failed.status == PipelineRun.Status.FAILED
    settings.LAKE_FAULT_INJECTION = ""

    maintenance = maintain()

    published = {s for run in [*runs, maintenance] for s in run.snapshots.values()}
    for identifier in lake_tables():
        table = load_table(identifier)
        kept = {snapshot.snapshot_id for snapshot in table.snapshots()}
        assert kept <= published | {table.current_snapshot().snapshot_id}, identifier


@pytest.mark.slow
def test_every_file_a_kept_snapshot_needs_is_still_there_and_orphans_are_gone(lake, busy_lake):
    runs = busy_lake(runs=3)
    age(runs[:2], days=10)
    orphan = lake / "marts" / "fact_sales" / "data" / "left-by-a-killed-run.parquet"
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"not referenced")
    two_days_ago = time.time() - 2 * 86400  # past LAKE_ORPHAN_MIN_AGE_HOURS
    os.utime(orphan, (two_days_ago, two_days_ago))

    maintain()

    assert not orphan.exists()
    for identifier in lake_tables():
        for path in referenced_files(load_table(identifier)):
            assert Path(path.removeprefix("file://")).is_file(), path
    # The remaining files are exactly the referenced ones.
    referenced = {
        path.removeprefix("file://")
        for t in lake_tables()
        for path in referenced_files(load_table(t))
    }
    on_disk = {str(p) for p in (lake / "staging").rglob("*") if p.is_file()}
    on_disk |= {str(p) for p in (lake / "marts").rglob("*") if p.is_file()}
    assert on_disk == referenced


def test_a_file_no_commit_named_is_kept_while_it_may_still_be_being_written(
    lake, settings, busy_lake
):
    runs = busy_lake(runs=2)
    age(runs[:1], days=10)
    settings.LAKE_ORPHAN_MIN_AGE_HOURS = 1
    writing = lake / "marts" / "fact_sales" / "data" / "a-writer-outside-the-lock.parquet"
    writing.write_bytes(b"being written")
    expired_files = referenced_files(load_table("marts.fact_sales"))

    maintenance = maintain()

    assert writing.exists()
    assert "kept 1 unreferenced files too new to remove" in (
        maintenance.steps.get(name="maintain marts.fact_sales").log
    )
    # What expired snapshots alone referred to went at once, however new.
    still = referenced_files(load_table("marts.fact_sales"))
    gone = {path for path in expired_files - still if not Path(path[7:]).exists()}
    assert gone and gone == expired_files - still
    an_hour_ago = time.time() - 3601
    os.utime(writing, (an_hour_ago, an_hour_ago))

    maintain()

    assert not writing.exists()


def test_raw_increments_before_the_window_are_removed_and_the_crawl_forgets_them(lake, busy_lake):
    runs = busy_lake(runs=3)
    age(runs[:2], days=10)
    raw_rental = lake / "raw" / "rental"
    assert (raw_rental / f"run_id={runs[0].pk}").is_dir()

    maintain()

    assert not (raw_rental / f"run_id={runs[0].pk}").exists()
    assert not (raw_rental / f"run_id={runs[1].pk}").exists()
    assert (raw_rental / f"run_id={runs[2].pk}").is_dir()
    partitions = CrawledTable.objects.get(name="rental").partitions
    assert f"run_id={runs[0].pk}" not in partitions
    assert f"run_id={runs[2].pk}" in partitions


@pytest.mark.parametrize("step", ["retire runs", "maintain marts.fact_sales", "publish"])
@pytest.mark.slow
def test_a_maintenance_failing_at_any_step_loses_nothing(lake, settings, step, busy_lake):
    runs = busy_lake(runs=3)
    age(runs[:1], days=10)
    before = published_state()
    travel = marts_contents(runs[2].snapshots)

    settings.LAKE_FAULT_INJECTION = f"{step}:raise"
    failed = maintenance_run_execute(
        pipeline_run_create(kind=PipelineRun.Kind.MAINTENANCE), current_engine()
    )

    assert failed.status == PipelineRun.Status.FAILED
    assert published_state() == before
    assert marts_contents(runs[2].snapshots) == travel
    settings.LAKE_FAULT_INJECTION = ""
    maintain()
    make_desk_changes()
    caught_up = marts_contents(run_pipeline().snapshots)
    run_pipeline(full=True)
    assert caught_up == marts_contents()


@pytest.mark.slow
def test_a_pipeline_run_after_maintenance_merges_into_the_compacted_tables(lake, busy_lake):
    busy_lake(runs=2)
    maintain()
    make_desk_changes()
    incremental = marts_contents(run_pipeline().snapshots)
    run_pipeline(full=True)
    assert incremental == marts_contents()


@pytest.mark.slow
def test_maintenance_is_due_after_the_configured_number_of_runs(lake, settings, busy_lake):
    settings.LAKE_MAINTAIN_AFTER_RUNS = 3
    busy_lake(runs=1)  # two pipeline runs
    assert services.lake_maintain_if_due() is None
    make_desk_changes()
    run_pipeline()
    queued = services.lake_maintain_if_due()
    assert queued is not None and queued.kind == PipelineRun.Kind.MAINTENANCE
    assert queued.trigger == PipelineRun.Trigger.THRESHOLD
    maintenance_run_execute(queued, current_engine())
    assert services.lake_maintain_if_due() is None  # counted again from the maintenance


def test_maintenance_is_a_run_on_glue_too(lake, settings):
    # It retires runs and keeps the raw zone; Glue's table optimizers do the tables
    # (tests/lake/aws/test_raw_retention.py, on moto).
    settings.LAKE_ENGINE = "glue"
    run = services.lake_maintain_request(send=False)
    assert (run.kind, run.engine) == (PipelineRun.Kind.MAINTENANCE, "glue")


def test_lake_maintain_dry_run_prints_the_plan_and_changes_nothing(lake, capsys, busy_lake):
    busy_lake(runs=2)
    before = published_state()
    files = files_under(lake)

    call_command("lake", "maintain", "--dry-run")

    out = capsys.readouterr().out
    assert "staging.rental" in out and "would compact" in out
    assert published_state() == before and files_under(lake) == files
    assert not PipelineRun.objects.filter(kind=PipelineRun.Kind.MAINTENANCE).exists()


def test_lake_maintain_runs_it_and_prints_what_it_did(lake, capsys, busy_lake):
    busy_lake(runs=2)

    call_command("lake", "maintain")

    out = capsys.readouterr().out
    run = PipelineRun.objects.get(kind=PipelineRun.Kind.MAINTENANCE)
    assert run.status == PipelineRun.Status.SUCCEEDED
    assert f"Maintenance run {run.pk} succeeded" in out
    assert "staging.rental: compacted" in out


@pytest.mark.slow
def test_reports_as_of_kept_runs_are_unchanged_and_expired_runs_are_refused(
    lake, empty_cache, busy_lake
):
    runs = busy_lake(runs=2)
    age(runs[:1], days=10)
    report = report_get("sales_by_month")
    params = {param.name: param.default for param in report.params}
    before = {run.pk: report_run(report, params, as_of_run=run).rows for run in runs[1:]}

    maintain()

    for run in runs[1:]:
        run.refresh_from_db()
        assert report_run(report, params, as_of_run=run, refresh=True).rows == before[run.pk]
    with pytest.raises(ValidationError) as refused:
        report_run_get(runs[0].pk)
    message = " ".join(refused.value.message_dict["as_of_run"])
    assert f"Run {runs[0].pk} is older than the 7-day retention window" in message
    assert f"Time travel reaches back to run {runs[1].pk}" in message
    assert runs[0] not in time_travel_runs()
    assert time_travel_reach().startswith(f"Back to run {runs[1].pk} (")


def test_a_file_is_the_same_file_whichever_writer_named_it():
    """pyiceberg names files file:///a/b, Iceberg's Java library (Spark) file:/a/b:
    orphan removal took Spark's live files for orphans before both were one path.
    A Hadoop checksum file (.<name>.crc) goes and stays with the file it checks."""
    from lake.core.table_maintenance import _checksummed, _path

    assert _path("file:///w/t/data/f.parquet") == _path("file:/w/t/data/f.parquet")
    assert (
        _path("file:/w/t/data/f.parquet") == _path("/w/t/data/f.parquet") == "/w/t/data/f.parquet"
    )
    assert _path("s3://bucket/w/t/f.parquet") == "bucket/w/t/f.parquet"
    assert _checksummed("/w/t/data/.f.parquet.crc") == "/w/t/data/f.parquet"
    assert _checksummed("/w/t/data/f.parquet") == "/w/t/data/f.parquet"
