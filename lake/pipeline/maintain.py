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
   the Glue Data Catalog's partitions, ``lake.aws.raw_retention``), as the
   engine does it (``lake.pipeline.raw_retention`` locally);
4. publish: the compacted snapshots become the ones readers see, in one
   database transaction, as a pipeline run publishes.

An engine whose tables something else maintains (``Engine.tables_maintained_by``:
on Glue, the Data Catalog's table optimizers, which ``lake deploy`` turns
on) skips step 2, and the step only says so; step 3 is the engine's own
(``Engine.raw_retention``).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from lake import selectors
from lake.catalog import current_snapshot_ids, lake_tables, load_table
from lake.core.table_maintenance import TableMaintenance, maintain_table
from lake.models import PipelineRun, PipelineRunEvent
from lake.pipeline.raw_retention import RawRetention
from lake.pipeline.runner import (
    published_protect_on_commit,
    run_claimed_execute,
    run_event,
    run_finish,
    run_inject_fault,
    run_raise_if_cancelled,
    run_step,
)

if TYPE_CHECKING:  # the engines run maintenance: they pass themselves in
    from lake.engines.base import Engine


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
                load_table(identifier),
                published=plan.published.get(identifier),
                keep=plan.keep,
                orphan_min_age=timedelta(hours=settings.LAKE_ORPHAN_MIN_AGE_HOURS),
                dry_run=dry_run,
                retired_runs=plan.retired_runs,
            )

        results.append(each(identifier, work) if each else work())
    return results


def raw_retention(plan: MaintenancePlan, engine: "Engine", *, dry_run: bool) -> RawRetention:
    """Delete the raw increments of the runs before the oldest one time travel
    still reaches, where ``engine`` keeps them."""
    if plan.readable_from is None:
        return RawRetention()
    return engine.raw_retention(plan.readable_from.pk, dry_run=dry_run)


def maintenance_run_execute(run: PipelineRun, engine: "Engine") -> PipelineRun:
    """Carry out a queued maintenance run in this process, for the lake that
    ``engine`` writes; return it finished."""
    return run_claimed_execute(run, lambda run, inputs: _maintain(run, engine))


def _maintain(run: PipelineRun, engine: "Engine") -> None:
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

    if engine.tables_maintained_by:
        with run_step(run, "maintain tables") as step:
            step.log = engine.tables_maintained_by
        results = []
    else:
        results = maintain_tables(plan, dry_run=False, each=each)
    with run_step(run, "raw retention") as step:
        step.log = raw_retention(plan, engine, dry_run=False).summary()
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
        published_protect_on_commit(run.snapshots, every_table=True)
        run.save(update_fields=["watermarks_from"])
        run_finish(run, PipelineRun.Status.SUCCEEDED)
        total = f"{run.seconds:.1f}" if run.seconds is not None else "?"
        run_event(run, PipelineRunEvent.Action.SUCCEEDED, message=f"Published in {total} s.")


def maintenance_due(engine: "Engine") -> bool:
    """Whether enough pipeline runs succeeded since the last maintenance (only
    where maintenance maintains the tables: on AWS, Glue's table optimizers do)."""
    every = settings.LAKE_MAINTAIN_AFTER_RUNS
    if every <= 0 or engine.tables_maintained_by:
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
