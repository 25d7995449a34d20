"""The catalog browser's read queries: the lake's tables, schemas and snapshots,
each snapshot with the run that wrote it, and the raw zone as its crawler
found it."""

from dataclasses import dataclass, field
from datetime import datetime

from lake import selectors
from lake.catalog import lake_tables, load_table
from lake.engines import current_engine
from lake.models import CrawledTable, PipelineRun

SNAPSHOTS_SHOWN = 50
ZONES = ("staging", "marts", "raw")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False


@dataclass(frozen=True)
class SnapshotInfo:
    snapshot_id: int
    parent_id: int | None
    at: datetime
    operation: str
    records: int | None
    added_records: int | None
    deleted_records: int | None
    files: int | None
    run_id: int | None  # the run during which it was written
    run_status: str
    published: bool  # a run recorded it: readers saw (or see) it
    current: bool  # the one readers see now


@dataclass
class CatalogTable:
    zone: str
    name: str
    location: str
    columns: list[Column]
    partitioning: list[str] = field(default_factory=list)
    rows: int | None = None
    snapshot_count: int = 0
    updated_at: datetime | None = None
    published_snapshot_id: int | None = None
    current_snapshot_id: int | None = None
    snapshots: list[SnapshotInfo] = field(default_factory=list)
    # Raw zone (the crawler's entry): schema version, its changes, partitions.
    schema_version: int | None = None
    schema_changes: list[dict] = field(default_factory=list)
    partitions: list[str] = field(default_factory=list)

    @property
    def identifier(self) -> str:
        return f"{self.zone}.{self.name}"


def catalog_table_list() -> list[CatalogTable]:
    """Every table of the lake: the Iceberg tables of staging and marts (their
    metadata only), then the raw zone as the crawler found it."""
    published = selectors.published_snapshots()
    tables = []
    for identifier in lake_tables():
        table = load_table(identifier)
        if table is not None:
            tables.append(_iceberg_table(identifier, table, published))
    tables += [_crawled_table(crawled) for crawled in crawled_tables()]
    return tables


def crawled_tables(*, name: str | None = None) -> list[CrawledTable]:
    """The raw zone as the crawler that runs with the engine found it, by name:
    the local crawler's records, or the Glue crawler's tables (unsaved rows)."""
    return current_engine().crawled_tables(name=name)


def catalog_table_get(*, zone: str, name: str) -> CatalogTable | None:
    """One table with its schema and its latest snapshots, each with its run."""
    if zone == "raw":
        crawled = crawled_tables(name=name)
        return _crawled_table(crawled[0]) if crawled else None
    if zone not in ZONES or f"{zone}.{name}" not in lake_tables():
        return None
    table = load_table(f"{zone}.{name}")
    if table is None:
        return None
    identifier = f"{zone}.{name}"
    info = _iceberg_table(identifier, table, selectors.published_snapshots())
    snapshots = sorted(table.snapshots(), key=lambda s: (s.timestamp_ms, s.sequence_number or 0))
    shown = list(reversed(snapshots))[:SNAPSHOTS_SHOWN]
    times = {snapshot.snapshot_id: selectors.snapshot_time(snapshot) for snapshot in shown}
    runs = selectors.runs_at(list(times.values()))
    recorded = dict(
        PipelineRun.objects.filter(
            pk__in={run[0] for run in runs.values()}, status=PipelineRun.Status.SUCCEEDED
        ).values_list("pk", "snapshots")
    )
    for snapshot in shown:
        run = runs.get(times[snapshot.snapshot_id])
        published = run is not None and (recorded.get(run[0]) or {}).get(identifier) == (
            snapshot.snapshot_id
        )
        summary = snapshot.summary
        info.snapshots.append(
            SnapshotInfo(
                snapshot_id=snapshot.snapshot_id,
                parent_id=snapshot.parent_snapshot_id,
                at=times[snapshot.snapshot_id],
                operation=summary.operation.value if summary else "",
                records=selectors.snapshot_rows(snapshot),
                added_records=selectors.snapshot_summary_int(snapshot, "added-records"),
                deleted_records=selectors.snapshot_summary_int(snapshot, "deleted-records"),
                files=selectors.snapshot_summary_int(snapshot, "total-data-files"),
                run_id=run[0] if run else None,
                run_status=run[1] if run else "",
                published=published or snapshot.snapshot_id == info.published_snapshot_id,
                current=snapshot.snapshot_id == info.published_snapshot_id,
            )
        )
    return info


def _iceberg_table(identifier: str, table, published: dict[str, int]) -> CatalogTable:
    zone, _, name = identifier.partition(".")
    schema = table.schema()
    columns = [Column(f.name, str(f.field_type), f.required) for f in schema.fields]
    partitioning = [
        f"{spec_field.transform}({schema.find_field(spec_field.source_id).name})"
        for spec_field in table.spec().fields
    ]
    snapshot_id = published.get(identifier)
    shown = selectors.snapshot_get(identifier, snapshot_id, table=table)
    current = table.current_snapshot()
    return CatalogTable(
        zone=zone,
        name=name,
        location=table.metadata.location,
        columns=columns,
        partitioning=partitioning,
        rows=selectors.snapshot_rows(shown),
        snapshot_count=len(table.snapshots()),
        updated_at=selectors.snapshot_time(current) if current else None,
        published_snapshot_id=snapshot_id,
        current_snapshot_id=current.snapshot_id if current else None,
    )


def _crawled_table(crawled: CrawledTable) -> CatalogTable:
    return CatalogTable(
        zone="raw",
        name=crawled.name,
        location=crawled.location,
        columns=[Column(column["name"], column["type"]) for column in crawled.columns],
        partitioning=["run_id"],
        updated_at=crawled.last_crawled_at,
        schema_version=crawled.schema_version,
        schema_changes=[
            {**change, "at": _parsed_time(change.get("at"))} for change in crawled.schema_changes
        ],
        partitions=list(crawled.partitions),
    )


def _parsed_time(text: str | None) -> datetime | None:
    """A time the crawler recorded as ISO text (JSON holds no datetimes)."""
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
