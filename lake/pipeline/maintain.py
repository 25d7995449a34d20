"""The maintenance run: keep the lake's cost proportional to its data, not its runs.

Steps, each recorded like a pipeline run's:

1. ``retire runs``: runs that finished before the retention window are
   marked as no longer readable *before* any of their snapshots is expired
   (a maintenance that fails after this refuses time travel a little early,
   never reads a missing file);
2. ``maintain <table>`` for every staging and mart table
   (``table_maintenance.maintain_table``: compact, expire, remove orphans);
3. ``raw retention``: the raw zone's increments of runs before the window
   are deleted (a full run reads the rental database, not the raw zone) and
   the crawled catalog forgets their partitions (on AWS: the S3 objects and
   the Glue Data Catalog's partitions, ``lake.aws.raw_retention``);
4. publish: the compacted snapshots become the ones readers see, in one
   database transaction, as a pipeline run publishes.

On the Glue engine the run does the same in the worker except step 2: Glue's
table optimizers compact and expire the tables (``lake deploy`` turns them
on), so the step only says so.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from pyarrow import fs

from lake import selectors
from lake.catalog import current_snapshot_ids, lake_tables, warehouse_uri
from lake.models import CrawledTable, PipelineRun, PipelineRunEvent
from lake.pipeline.crawl import run_number
from lake.pipeline.runner import (
    run_claimed_execute,
    run_event,
    run_finish,
    run_inject_fault,
    run_raise_if_cancelled,
    run_step,
)
from lake.pipeline.table_maintenance import TableMaintenance, maintain_table

GLUE_OPTIMIZERS = (
    "Glue's table optimizers compact the tables, expire their snapshots and delete "
    "orphan files (lake deploy turns them on): nothing to do here"
)


@dataclass
class RawRetention:
    partitions_removed: int = 0
    files_removed: int = 0
    bytes_removed: int = 0

    def summary(self, *, planned: bool = False) -> str:
        return (
            f"{'would remove' if planned else 'removed'} {self.partitions_removed} raw "
            f"partitions, {self.files_removed} files "
            f"({self.bytes_removed / 1e6:.1f} MB)"
        )


@dataclass
class MaintenancePlan:
    """What maintenance keeps and from when (the retention window)."""

    cutoff: datetime  # runs that ended before this leave the window (naive local time)
    published: dict[str, int]  # lake table -> the snapshot readers see now
    keep: set[int]  # snapshots no maintenance may expire
    retired_runs: list[int]  # runs leaving the window (time travel refused from now on)
    readable_from: PipelineRun | None  # the oldest run time travel still reaches
    tables: list[str] = field(default_factory=list)


def retention() -> timedelta:
    return timedelta(days=settings.LAKE_RETENTION_DAYS)


def maintenance_plan(*, now: datetime | None = None) -> MaintenancePlan:
    cutoff = (now or timezone.now()) - retention()
    succeeded = PipelineRun.objects.filter(status=PipelineRun.Status.SUCCEEDED).exclude(
        snapshots={}
    )
    latest = selectors.published_run()
    in_window = succeeded.filter(finished_at__gte=cutoff, snapshots_expired=False)
    keep: set[int] = set()
    for snapshots in in_window.values_list("snapshots", flat=True):
        keep |= set(snapshots.values())
    published = dict(latest.snapshots) if latest else {}
    keep |= set(published.values())
    retired = succeeded.filter(snapshots_expired=False, finished_at__lt=cutoff)
    if latest is not None:
        retired = retired.exclude(pk=latest.pk)
    oldest = selectors.readable_runs().exclude(pk__in=retired).order_by("pk").first()
    return MaintenancePlan(
        cutoff=cutoff,
        published=published,
        keep=keep,
        retired_runs=list(retired.values_list("pk", flat=True)),
        readable_from=oldest,
        tables=lake_tables(),
    )


def maintain_tables(plan: MaintenancePlan, *, dry_run: bool, each=None) -> list[TableMaintenance]:
    """Maintain every lake table; ``each(identifier)`` wraps each table's work
    (a run's step) when given."""
    results = []
    for identifier in plan.tables:

        def work(identifier=identifier) -> TableMaintenance:
            return maintain_table(
                identifier,
                published=plan.published.get(identifier),
                keep=plan.keep,
                dry_run=dry_run,
            )

        results.append(each(identifier, work) if each else work())
    return results


def raw_retention(plan: MaintenancePlan, *, dry_run: bool) -> RawRetention:
    """Delete the raw increments of the runs before the oldest one time travel
    still reaches, and forget their partitions in the crawled catalog."""
    result = RawRetention()
    if plan.readable_from is None:
        return result
    if settings.LAKE_ENGINE == "glue":
        from lake.aws.raw_retention import glue_raw_retention  # it imports this module

        return glue_raw_retention(plan.readable_from.pk, dry_run=dry_run)
    oldest_kept = plan.readable_from.pk
    filesystem, root = fs.FileSystem.from_uri(warehouse_uri())
    raw = f"{root}/raw"
    if filesystem.get_file_info(raw).type == fs.FileType.NotFound:
        return result
    for table_dir in filesystem.get_file_info(fs.FileSelector(raw)):
        if table_dir.type != fs.FileType.Directory:
            continue
        removed = []
        for partition in filesystem.get_file_info(fs.FileSelector(table_dir.path)):
            number = run_number(partition.base_name)
            if partition.type != fs.FileType.Directory or not number or number >= oldest_kept:
                continue
            for info in filesystem.get_file_info(fs.FileSelector(partition.path, recursive=True)):
                if info.type == fs.FileType.File:
                    result.files_removed += 1
                    result.bytes_removed += info.size or 0
            if not dry_run:
                filesystem.delete_dir(partition.path)
            removed.append(partition.base_name)
        result.partitions_removed += len(removed)
        if removed and not dry_run:
            crawled = CrawledTable.objects.filter(name=table_dir.base_name).first()
            if crawled is not None:
                crawled.partitions = [p for p in crawled.partitions if p not in set(removed)]
                crawled.save(update_fields=["partitions"])
    return result


def maintenance_run_execute(run: PipelineRun) -> PipelineRun:
    """Carry out a queued maintenance run in this process; return it finished."""
    return run_claimed_execute(run, lambda run, inputs: _maintain(run))


def _maintain(run: PipelineRun) -> None:
    plan = maintenance_plan()
    with run_step(run, "retire runs") as step:
        PipelineRun.objects.filter(pk__in=plan.retired_runs).update(snapshots_expired=True)
        reach = plan.readable_from
        step.log = (
            f"{len(plan.retired_runs)} runs left the {settings.LAKE_RETENTION_DAYS:g}-day window; "
            + (f"time travel reaches back to run {reach.pk}" if reach else "nothing to travel to")
        )

    def each(identifier: str, work: Callable[[], TableMaintenance]) -> TableMaintenance:
        with run_step(run, f"maintain {identifier}") as step:
            result = work()
            step.files_written = result.files_written
            step.log = result.summary()
        return result

    if run.engine == "glue":
        with run_step(run, "maintain tables") as step:
            step.log = GLUE_OPTIMIZERS
        results = []
    else:
        results = maintain_tables(plan, dry_run=False, each=each)
    with run_step(run, "raw retention") as step:
        step.log = raw_retention(plan, dry_run=False).summary()
    run_inject_fault("publish")
    run_raise_if_cancelled(run)
    compacted = [result.table for result in results if result.snapshot_id is not None]
    maintenance_publish(run, plan, compacted)


def maintenance_publish(run: PipelineRun, plan: MaintenancePlan, compacted: list[str]) -> None:
    """The compacted snapshots become the published ones, in one database
    transaction; the watermarks stay where the last pipeline run left them."""
    with transaction.atomic():
        latest = selectors.published_run()
        run.watermarks_from = run.watermarks_to = latest.watermarks_to if latest else {}
        current = current_snapshot_ids() if compacted else {}
        run.snapshots = {**plan.published, **{t: current[t] for t in compacted if t in current}}
        run.save(update_fields=["watermarks_from"])
        run_finish(run, PipelineRun.Status.SUCCEEDED)
        total = f"{run.seconds:.1f}" if run.seconds is not None else "?"
        run_event(run, PipelineRunEvent.Action.SUCCEEDED, message=f"Published in {total} s.")


def maintenance_due() -> bool:
    """Whether enough pipeline runs succeeded since the last maintenance (the
    local engine only: on AWS, Glue's table optimizers maintain the tables)."""
    every = settings.LAKE_MAINTAIN_AFTER_RUNS
    if every <= 0 or settings.LAKE_ENGINE != "local":
        return False
    last = (
        PipelineRun.objects.filter(kind=PipelineRun.Kind.MAINTENANCE)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    since = PipelineRun.objects.filter(
        kind=PipelineRun.Kind.PIPELINE, status=PipelineRun.Status.SUCCEEDED, pk__gt=last or 0
    )
    return since.count() >= every
