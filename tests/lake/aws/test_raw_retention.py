"""Maintenance on the Glue engine, on moto's S3 and Glue: runs older than the
retention window are retired, and the raw increments of the runs time travel
no longer reaches go from S3 and from the Glue Data Catalog; the tables are
left to Glue's table optimizers."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from lake import services, tasks
from lake.aws.clients import aws_client
from lake.aws.raw_tables import glue_raw_tables
from lake.models import CrawledTable, PipelineRun
from reports.registry import report_run_get
from sakila_site.celery import app
from tests.lake.aws.conftest import WAREHOUSE_BUCKET, crawl

pytestmark = pytest.mark.django_db

COLUMNS = [("rental_id", "int"), ("last_update", "timestamp")]


def published_run(days_ago: float) -> PipelineRun:
    """A Glue run that published ``days_ago`` (its raw increment is written below)."""
    finished = timezone.now() - timedelta(days=days_ago)
    run = PipelineRun.objects.create(engine="glue", status=PipelineRun.Status.SUCCEEDED)
    PipelineRun.objects.filter(pk=run.pk).update(
        snapshots={"marts.fact_sales": 1000 + run.pk},
        started_at=finished - timedelta(minutes=5),
        finished_at=finished,
    )
    run.refresh_from_db()
    return run


def write_raw(glue, table: str, runs: list[PipelineRun], files: int = 2) -> None:
    """What a Glue run writes to the raw zone and the crawler then catalogs."""
    s3 = aws_client("s3")
    for run in runs:
        for part in range(files):
            key = f"lake/raw/{table}/run_id={run.pk}/part-{part}.parquet"
            s3.put_object(Bucket=WAREHOUSE_BUCKET, Key=key, Body=b"x" * 1000)
    crawl(glue, table, COLUMNS, runs=[run.pk for run in runs])


def raw_folders() -> dict[str, list[str]]:
    """{table: ["run_id=<n>", ...]} of the raw zone on S3."""
    folders: dict[str, set[str]] = {}
    for item in aws_client("s3").list_objects_v2(Bucket=WAREHOUSE_BUCKET, Prefix="lake/raw/")[
        "Contents"
    ]:
        _, _, table, folder, _ = item["Key"].split("/")
        folders.setdefault(table, set()).add(folder)
    return {table: sorted(found, key=_number) for table, found in sorted(folders.items())}


def catalog_partitions() -> dict[str, list[str]]:
    return {table.name: table.partitions for table in glue_raw_tables()}


def _number(folder: str) -> int:
    return int(folder.rpartition("=")[2])


def names(runs: list[PipelineRun]) -> list[str]:
    return [f"run_id={run.pk}" for run in runs]


@pytest.fixture
def aged_lake(on_glue):
    """Thirty runs that left the 7-day window, then two inside it; rental has
    an increment of every run, actor of the first and the last."""
    old = [published_run(days_ago=40 - n) for n in range(30)]
    recent = [published_run(days_ago=2), published_run(days_ago=0.5)]
    write_raw(on_glue, "rental", old + recent)
    write_raw(on_glue, "actor", [old[0], recent[-1]])
    return old, recent


def test_glue_maintenance_deletes_old_raw_increments_from_s3_and_the_catalog(aged_lake):
    old, recent = aged_lake
    CrawledTable.objects.create(name="rental", partitions=names(old + recent))

    run = services.lake_maintain_request(send=False)
    tasks.pipeline_run_task(run.pk)  # as the worker does

    run.refresh_from_db()
    assert (run.status, run.engine) == (PipelineRun.Status.SUCCEEDED, "glue"), run.error
    steps = dict(run.steps.values_list("name", "log"))
    assert list(steps) == ["retire runs", "maintain tables", "raw retention"]
    assert "Glue's table optimizers" in steps["maintain tables"]
    assert steps["raw retention"] == (
        "removed 31 raw partitions, 62 files (0.1 MB); "
        "forgot 31 partitions in the Glue Data Catalog"
    )
    # What the readable runs wrote stays, on S3 and in the catalog alike.
    expected = {"actor": names(recent[-1:]), "rental": names(recent)}
    assert raw_folders() == expected
    assert catalog_partitions() == expected
    assert CrawledTable.objects.get(name="rental").partitions == names(recent)
    # Maintenance publishes what readers already saw: Glue's optimizers compact.
    assert run.snapshots == recent[-1].snapshots


def test_runs_older_than_the_window_are_refused_for_time_travel(aged_lake):
    old, recent = aged_lake

    call_command("lake", "maintain")

    assert PipelineRun.objects.filter(snapshots_expired=True).count() == len(old)
    with pytest.raises(ValidationError) as refused:
        report_run_get(old[-1].pk)
    message = " ".join(refused.value.message_dict["as_of_run"])
    assert f"Run {old[-1].pk} is older than the 7-day retention window" in message
    assert f"Time travel reaches back to run {recent[0].pk}" in message
    assert report_run_get(recent[0].pk) == recent[0]


def test_the_latest_run_keeps_its_increment_however_old(on_glue):
    # No run for weeks: the published run stays readable, and its raw increment stays.
    runs = [published_run(days_ago=60), published_run(days_ago=30)]
    write_raw(on_glue, "rental", runs)

    call_command("lake", "maintain")

    assert raw_folders() == {"rental": names(runs[1:])}
    assert catalog_partitions() == {"rental": names(runs[1:])}
    assert report_run_get(runs[1].pk) == runs[1]


def test_a_dry_run_prints_what_would_go_and_changes_nothing(aged_lake, capsys):
    before = (raw_folders(), catalog_partitions())

    call_command("lake", "maintain", "--dry-run")

    out = capsys.readouterr().out
    assert "tables: Glue's table optimizers" in out
    assert (
        "raw zone: would remove 31 raw partitions, 62 files (0.1 MB); "
        "would forget 31 partitions in the Glue Data Catalog"
    ) in out
    assert (raw_folders(), catalog_partitions()) == before
    assert not PipelineRun.objects.filter(snapshots_expired=True).exists()
    assert not PipelineRun.objects.filter(kind=PipelineRun.Kind.MAINTENANCE).exists()


def test_what_an_interrupted_maintenance_left_goes_the_next_time(aged_lake, on_glue):
    old, recent = aged_lake
    # One left its files, another its catalog partition.
    on_glue.batch_delete_partition(
        DatabaseName="sakila_raw",
        TableName="rental",
        PartitionsToDelete=[{"Values": [str(old[0].pk)]}],
    )
    aws_client("s3").delete_object(
        Bucket=WAREHOUSE_BUCKET, Key=f"lake/raw/rental/run_id={old[1].pk}/part-0.parquet"
    )
    aws_client("s3").delete_object(
        Bucket=WAREHOUSE_BUCKET, Key=f"lake/raw/rental/run_id={old[1].pk}/part-1.parquet"
    )

    call_command("lake", "maintain")

    assert raw_folders() == {"actor": names(recent[-1:]), "rental": names(recent)}
    assert catalog_partitions() == raw_folders()
    call_command("lake", "maintain")  # nothing left to do
    maintenance = PipelineRun.objects.filter(kind=PipelineRun.Kind.MAINTENANCE).order_by("-pk")
    log = maintenance[0].steps.get(name="raw retention").log
    assert log.startswith("removed 0 raw partitions, 0 files")


def test_the_nightly_schedule_maintains_on_glue_too(
    aged_lake, django_capture_on_commit_callbacks, monkeypatch
):
    _, recent = aged_lake
    monkeypatch.setitem(app.conf, "task_always_eager", True)  # as a worker runs it
    with django_capture_on_commit_callbacks(execute=True):
        tasks.lake_maintain_scheduled_task()

    run = PipelineRun.objects.get(kind=PipelineRun.Kind.MAINTENANCE)
    assert run.status == PipelineRun.Status.SUCCEEDED, run.error
    assert run.trigger == PipelineRun.Trigger.SCHEDULE
    assert raw_folders()["rental"] == names(recent)
