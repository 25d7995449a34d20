"""Read queries over pipeline runs, workers and the lake's freshness.

The catalog browser's and the schedules' reads are the control panel's
(``lake.panel.catalog``, ``lake.panel.schedules``)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Max, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from lake.catalog import load_table
from lake.core.marts import MARTS
from lake.models import (
    Alert,
    PipelineCheck,
    PipelineRun,
    PipelineRunEvent,
    PipelineStep,
    Watermark,
    WorkerHeartbeat,
)
from lake.panel import schedules
from lake.pipeline.schemas import STAGED_MODELS, table_name


def published_run(*, kind: str | None = None) -> PipelineRun | None:
    """The latest successful run: the one whose snapshots readers see (with
    ``kind``, the latest of that kind: the last pipeline run read the OLTP)."""
    runs = PipelineRun.objects.filter(status=PipelineRun.Status.SUCCEEDED).exclude(snapshots={})
    if kind is not None:
        runs = runs.filter(kind=kind)
    return runs.order_by("-pk").first()


def readable_runs() -> QuerySet[PipelineRun]:
    """Runs whose snapshots can still be read (time travel), newest first:
    succeeded, with snapshots, not yet retired by maintenance."""
    runs = PipelineRun.objects.filter(status=PipelineRun.Status.SUCCEEDED, snapshots_expired=False)
    return runs.exclude(snapshots={}).order_by("-pk")


def oldest_readable_run() -> PipelineRun | None:
    """How far back time travel reaches."""
    return readable_runs().order_by("pk").first()


def published_snapshots() -> dict[str, int]:
    run = published_run()
    return dict(run.snapshots) if run else {}


def pipeline_run_checked_get(*, run_id: int | None = None) -> PipelineRun:
    """The run ``run_id``, or the last run that ran its checks (DoesNotExist: none)."""
    if run_id is not None:
        return PipelineRun.objects.get(pk=run_id)
    checked = PipelineRun.objects.filter(checks__isnull=False).distinct().order_by("-pk").first()
    if checked is None:
        raise PipelineRun.DoesNotExist
    return checked


def pipeline_check_list(*, run: PipelineRun) -> list[PipelineCheck]:
    """A run's checks, those that did not pass first."""
    order = {PipelineCheck.Status.FAILED: 0, PipelineCheck.Status.ERROR: 0, "warned": 1}
    return sorted(run.checks.all(), key=lambda check: (order.get(check.status, 2), check.pk))


def alert_list(*, limit: int = 50) -> list[Alert]:
    """The latest alerts, open ones first, with their deliveries."""
    alerts = Alert.objects.select_related("run").prefetch_related("deliveries")
    return sorted(alerts[:limit], key=lambda alert: (alert.resolved_at is not None, -alert.pk))


def active_run() -> PipelineRun | None:
    """The queued or running run, if any (there is at most one)."""
    return PipelineRun.objects.filter(status__in=PipelineRun.ACTIVE).order_by("pk").first()


@dataclass(frozen=True)
class WorkerStatus:
    """Whether a Celery worker is there to take runs, as its heartbeats tell."""

    alive: bool
    last_seen: datetime | None  # the latest heartbeat of any worker (None: none recorded)


def worker_status() -> WorkerStatus:
    """Alive when a worker beat within LAKE_WORKER_ALIVE_SECONDS; always with eager tasks
    (they run in the caller, so there is no worker to wait for)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return WorkerStatus(alive=True, last_seen=None)
    last_seen = WorkerHeartbeat.objects.aggregate(latest=Max("last_seen"))["latest"]
    since = timezone.now() - timedelta(seconds=settings.LAKE_WORKER_ALIVE_SECONDS)
    return WorkerStatus(alive=last_seen is not None and last_seen >= since, last_seen=last_seen)


# --- The control panel and the API ---------------------------------------------------------

# The per-table "extract <table>" steps break the "extract" step's rows down; the
# crawl step counts partitions. Rows written are those of the stage and mart steps.
EXTRACT_STEP = "extract"
CRAWL_STEP = "crawl"
DURATION_TREND_RUNS = 30


def pipeline_run_list() -> QuerySet[PipelineRun]:
    """Runs, newest first, with who asked and the rows each read and wrote.

    The row counts are correlated subqueries on the (run, name) unique index,
    so a page of runs costs one query and counting them joins nothing.
    """
    steps = PipelineStep.objects.filter(run=OuterRef("pk"))
    written = (
        steps.exclude(name__startswith=EXTRACT_STEP)
        .exclude(name=CRAWL_STEP)
        .values("run")
        .annotate(total=Sum("rows"))
        .values("total")
    )
    return (
        PipelineRun.objects.select_related("requested_by")
        .annotate(
            rows_read=Coalesce(
                Subquery(steps.filter(name=EXTRACT_STEP).values("rows")[:1]), Value(0)
            ),
            rows_written=Coalesce(Subquery(written[:1]), Value(0)),
        )
        .order_by("-pk")
    )


def pipeline_run_filter(
    runs: QuerySet[PipelineRun],
    *,
    status: str = "",
    trigger: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[PipelineRun]:
    """Runs of one status and trigger, requested between two days (both included)."""
    if status:
        runs = runs.filter(status=status)
    if trigger:
        runs = runs.filter(trigger=trigger)
    if date_from:
        runs = runs.filter(created_at__gte=datetime.combine(date_from, time.min))
    if date_to:
        runs = runs.filter(created_at__lt=datetime.combine(date_to + timedelta(days=1), time.min))
    return runs


def pipeline_run_detail_list() -> QuerySet[PipelineRun]:
    """Runs with what their detail page and the API's detail show about them."""
    return pipeline_run_list().select_related("cancel_requested_by", "retry_of")


def pipeline_step_list(*, run: PipelineRun) -> QuerySet[PipelineStep]:
    return PipelineStep.objects.filter(run=run).order_by("position", "pk")


def pipeline_run_event_list(
    *, run: PipelineRun | None = None, action: str = "", user=None
) -> QuerySet[PipelineRunEvent]:
    """The audit trail, newest first: of one run, or filtered by action and user."""
    events = PipelineRunEvent.objects.select_related("user", "run").order_by("-at", "-pk")
    if run is not None:
        events = events.filter(run=run)
    if action:
        events = events.filter(action=action)
    if user is not None:
        events = events.filter(user=user)
    return events


def pipeline_run_event_users() -> QuerySet:
    """The users who appear in the audit trail, schedule changes too (for its user filter)."""
    users = get_user_model().objects.filter(
        Q(pk__in=PipelineRunEvent.objects.filter(user__isnull=False).values("user"))
        | Q(pk__in=schedules.schedule_change_list().values("user"))
    )
    return users.order_by(get_user_model().USERNAME_FIELD)


def pipeline_run_retry_list(*, run: PipelineRun) -> list[PipelineRun]:
    return list(PipelineRun.objects.filter(retry_of=run).order_by("pk"))


def pipeline_run_recent_list(
    *, runs: QuerySet[PipelineRun] | None = None, limit: int = DURATION_TREND_RUNS
) -> list[PipelineRun]:
    """The latest runs that started (of ``runs``: those the list's filters chose),
    oldest first (the duration trend)."""
    runs = PipelineRun.objects.all() if runs is None else runs
    runs = runs.filter(started_at__isnull=False).select_related(None).order_by("-pk")[:limit]
    return list(reversed(runs.only("pk", "status", "full", "trigger", "started_at", "finished_at")))


# --- Freshness ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TableFreshness:
    """How current one lake table is, as readers see it."""

    identifier: str  # "marts.fact_sales"
    snapshot_id: int | None  # the published snapshot (None: never published)
    rows: int | None
    # When the published snapshot was written, and the run that wrote it.
    changed_at: datetime | None
    changed_by: int | None
    # The time the source rows were read up to (the watermark): its age is the staleness.
    data_as_of: datetime | None
    age: timedelta | None
    stale: bool

    @property
    def zone(self) -> str:
        return self.identifier.partition(".")[0]

    @property
    def name(self) -> str:
        return self.identifier.partition(".")[2]


@dataclass(frozen=True)
class LakeFreshness:
    now: datetime
    published: PipelineRun | None
    latest: PipelineRun | None  # the latest run that ended, to tell why the lake is stale
    sla: timedelta
    tables: list[TableFreshness]
    watermarks: list[Watermark]

    @property
    def stale_tables(self) -> list[TableFreshness]:
        return [table for table in self.tables if table.stale]

    @property
    def stale_groups(self) -> list[tuple[datetime | None, list[TableFreshness]]]:
        """Stale tables by the time they are as of (None: not published), marts first:
        a run brings every table to the same time, so there is one group as a rule."""
        groups: dict[datetime | None, list[TableFreshness]] = {}
        readers_first = sorted(  # the marts, facts first: what reports read
            self.stale_tables, key=lambda t: (t.zone != "marts", not t.name.startswith("fact_"))
        )
        for table in readers_first:
            groups.setdefault(table.data_as_of, []).append(table)
        return sorted(groups.items(), key=lambda group: (group[0] is None, group[0] or 0))

    @property
    def sla_minutes(self) -> int:
        return int(self.sla.total_seconds() // 60)

    @property
    def data_as_of(self) -> datetime | None:
        """The oldest time a published table is as of."""
        return min((t.data_as_of for t in self.tables if t.data_as_of), default=None)


def lake_table_identifiers() -> list[str]:
    """The lake tables a run publishes: staging, then the marts."""
    return [f"staging.{table_name(model)}" for model in STAGED_MODELS] + [
        mart.identifier for mart in MARTS
    ]


def lake_freshness_get(*, now: datetime | None = None) -> LakeFreshness:
    """Each lake table's published snapshot, rows, last change and staleness.

    A table is as fresh as the source rows it was built from: a run that finds
    nothing new still brings it up to date. Staging tables are as of their
    source table's watermark, marts as of the oldest watermark (a run reads
    every table in one snapshot, so they are all the same in practice).
    Rows come from the Iceberg snapshot summaries (metadata only, no scan).
    """
    now = now or timezone.now()
    sla = timedelta(minutes=settings.LAKE_FRESHNESS_SLA_MINUTES)
    run = published_run()
    snapshots = dict(run.snapshots) if run else {}
    watermarks = list(Watermark.objects.order_by("table"))
    by_table = {watermark.table: watermark.value for watermark in watermarks}
    oldest = min(by_table.values(), default=None)
    identifiers = lake_table_identifiers()
    identifiers += sorted(set(snapshots) - set(identifiers))

    written: dict[str, tuple[int | None, datetime | None]] = {}
    for identifier in identifiers:
        snapshot = snapshot_get(identifier, snapshots.get(identifier))
        written[identifier] = (
            snapshot_rows(snapshot),
            snapshot_time(snapshot) if snapshot else None,
        )
    writers = runs_at([at for _, at in written.values() if at is not None])

    tables = []
    for identifier in identifiers:
        zone, _, name = identifier.partition(".")
        as_of = by_table.get(name, oldest) if zone == "staging" else oldest
        if identifier not in snapshots:
            as_of = None
        rows, changed_at = written[identifier]
        age = now - as_of if as_of else None
        writer = writers.get(changed_at) if changed_at else None
        tables.append(
            TableFreshness(
                identifier=identifier,
                snapshot_id=snapshots.get(identifier),
                rows=rows,
                changed_at=changed_at,
                changed_by=writer[0] if writer else None,
                data_as_of=as_of,
                age=age,
                stale=age is None or age > sla,
            )
        )
    latest = (
        PipelineRun.objects.filter(finished_at__isnull=False, started_at__isnull=False)
        .order_by("-pk")
        .first()
    )
    return LakeFreshness(now, run, latest, sla, tables, watermarks)


# --- Snapshots and the runs that wrote them -------------------------------------------


def snapshot_get(identifier: str, snapshot_id: int | None, table=None):
    if snapshot_id is None:
        return None
    table = table or load_table(identifier)
    return table.snapshot_by_id(snapshot_id) if table is not None else None


def snapshot_summary_int(snapshot, key: str) -> int | None:
    value = snapshot.summary.get(key) if snapshot is not None and snapshot.summary else None
    return int(value) if value is not None else None


def snapshot_rows(snapshot) -> int | None:
    return snapshot_summary_int(snapshot, "total-records")


def snapshot_time(snapshot) -> datetime:
    """When a snapshot was committed, as a naive local time like the site's."""
    at = datetime.fromtimestamp(snapshot.timestamp_ms / 1000, tz=UTC)
    return timezone.make_naive(at, timezone.get_default_timezone())


def runs_at(times: list[datetime]) -> dict[datetime, tuple[int, str]]:
    """The run (id, status) that was running at each of ``times``, if any.

    Runs never overlap, so this is one query over the runs of that period.
    """
    if not times:
        return {}
    runs = list(
        PipelineRun.objects.filter(started_at__isnull=False, started_at__lte=max(times))
        .filter(Q(finished_at__gte=min(times)) | Q(finished_at__isnull=True))
        .order_by("started_at", "pk")
        .values_list("pk", "status", "started_at", "finished_at")
    )
    found = {}
    for at in times:
        for pk, status, started_at, finished_at in reversed(runs):
            if started_at <= at and (finished_at is None or at <= finished_at):
                found[at] = (pk, status)
                break
    return found
