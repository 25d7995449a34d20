"""Table maintenance: compact small files, expire old snapshots, remove orphans.

Every run merges a few rows into a few partitions, and copy-on-write makes
each merge a new file, a new snapshot and new metadata. Without maintenance
the lake's cost grows with the number of runs: scans plan hundreds of
manifests, merges rewrite many small files, the warehouse never shrinks.

pyiceberg (0.12) expires snapshots (metadata only) and can delete old
metadata files after a commit; it has no compaction and no orphan-file
removal, so those two are written here, as small as they can be:

- compaction rewrites a partition holding more files than its bytes need
  (more than one file per target file size) as one overwrite of that
  partition, the rows read from the table itself;
- orphan removal deletes the files under a table's location that neither
  its metadata nor any snapshot still kept refers to: at once those that a
  commit wrote (referred to by expired snapshots or older metadata, as
  Iceberg's own expiry deletes them, or written by a commit on its way, as
  a merge-append's first manifest); the others, which no commit made (what
  a killed writer left), only once older than a margin: a writer outside
  the pipeline's lock may be writing them now, as Iceberg's
  ``remove_orphan_files`` (older than 3 days by default) also assumes.

Maintenance runs as a pipeline run of its own (never beside another run)
and is atomic like one: what it compacts is new snapshots, published at its
end like a run's; the snapshots any run inside the retention window
published, and the ones published now, are never expired, so time travel
to those runs and readers of the published lake keep their files.
"""

import math
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from pyarrow import fs
from pyiceberg.expressions import (
    AlwaysTrue,
    And,
    BooleanExpression,
    EqualTo,
    GreaterThanOrEqual,
    IsNull,
    LessThan,
    Or,
)
from pyiceberg.table import Table
from pyiceberg.transforms import IdentityTransform, MonthTransform
from pyiceberg.types import DateType

from lake.core.snapshot_tags import expired_tags, remove_tags, retired_tags
from lake.core.table_writes import replace_rows
from lake.core.tables import TABLE_PROPERTIES

TARGET_FILE_BYTES = int(TABLE_PROPERTIES["write.target-file-size-bytes"])


@dataclass
class TableMaintenance:
    """What maintenance did (or, in a dry run, would do) to one table."""

    table: str
    partitions_compacted: int = 0
    files_compacted: int = 0  # small data files rewritten
    files_written: int = 0  # the files they became
    snapshots_expired: int = 0
    files_removed: int = 0  # orphans deleted: data, manifests, old metadata
    orphans_kept: int = 0  # unreferenced files no commit named, younger than the margin
    bytes_removed: int = 0
    skipped: str = ""  # why the table was left alone
    snapshot_id: int | None = None  # the snapshot to publish after compaction

    def summary(self, *, planned: bool = False) -> str:
        if self.skipped:
            return self.skipped
        verbs = (
            ("would compact", "expire", "remove")
            if planned
            else ("compacted", "expired", "removed")
        )
        parts = []
        if self.files_compacted:
            parts.append(
                f"{verbs[0]} {self.files_compacted} files into {self.files_written} "
                f"({self.partitions_compacted} partitions)"
            )
        if self.snapshots_expired:
            parts.append(f"{verbs[1]} {self.snapshots_expired} snapshots")
        if self.files_removed:
            parts.append(
                f"{verbs[2]} {self.files_removed} files ({self.bytes_removed / 1e6:.1f} MB)"
            )
        if self.orphans_kept:
            parts.append(f"kept {self.orphans_kept} unreferenced files too new to remove")
        return ", ".join(parts) if parts else "nothing to compact, expire or remove"


def maintain_table(
    identifier: str,
    table: Table | None,
    *,
    published: int | None,
    keep: set[int],
    orphan_min_age: timedelta,
    dry_run: bool = False,
    retired_runs: list[int] | None = None,
) -> TableMaintenance:
    """Compact, expire and clean one lake table.

    ``published`` is the table's published snapshot; ``keep`` the snapshots
    no maintenance may expire (published by a run inside the window), and so
    are those a tag keeps, but for the tags of ``retired_runs``: every
    other one goes, including the unpublished ones a run made on its way
    (an overwrite commits a delete and an append), which nothing reads.
    Files no commit ever named are removed once older than ``orphan_min_age``.
    A table whose current snapshot is not the published one holds a failed
    run's unpublished writes: compacting it would publish them, so it is only
    cleaned (the next run publishes or replaces them).
    """
    result = TableMaintenance(identifier)
    if table is None or table.current_snapshot() is None:
        result.skipped = "empty: nothing to maintain"
        return result
    _set_metadata_cleanup(table, dry_run)
    current = table.current_snapshot().snapshot_id
    if current == published:
        compact_table(table, result, dry_run=dry_run)
        if not dry_run:
            table.refresh()
        result.snapshot_id = table.current_snapshot().snapshot_id
    # Tags past their max ref age go, as Iceberg's expiry drops them, and those
    # of the runs retired now; the others keep their snapshots (published
    # ones: lake/core/snapshot_tags.py).
    old_tags = sorted({*expired_tags(table), *retired_tags(table, retired_runs or [])})
    if old_tags and not dry_run:
        remove_tags(table, old_tags)
        table.refresh()
    tagged = {ref.snapshot_id for name, ref in table.metadata.refs.items() if name not in old_tags}
    kept = keep | tagged | {current, result.snapshot_id, published} - {None}
    named = referenced_files(table) | committed_writes(table)  # before expiry
    expire_snapshots(table, result, keep=kept, dry_run=dry_run)
    if not dry_run:
        table.refresh()
    still_referenced = referenced_files(table, snapshots=None if not dry_run else kept)
    remove_orphan_files(
        table,
        result,
        referenced=still_referenced,
        named=named,
        min_age=orphan_min_age,
        dry_run=dry_run,
    )
    return result


def _set_metadata_cleanup(table: Table, dry_run: bool) -> None:
    """Tables made before maintenance existed get its metadata properties too."""
    missing = {k: v for k, v in TABLE_PROPERTIES.items() if table.properties.get(k) != v}
    if missing and not dry_run:
        with table.transaction() as transaction:
            transaction.set_properties(missing)


# --- Compaction ------------------------------------------------------------------------


def compact_table(table: Table, result: TableMaintenance, *, dry_run: bool) -> None:
    """Rewrite the partitions that hold more files than their size needs, in one commit."""
    files_by_partition: dict[tuple, list] = defaultdict(list)
    for task in table.scan().plan_files():
        files_by_partition[tuple(task.file.partition)].append(task.file)
    crowded = {
        partition: files
        for partition, files in files_by_partition.items()
        if len(files) > _files_needed(files)
    }
    if not crowded:
        return
    result.partitions_compacted = len(crowded)
    result.files_compacted = sum(len(files) for files in crowded.values())
    result.files_written = sum(_files_needed(files) for files in crowded.values())
    if dry_run:
        return
    condition = _any_of([partition_filter(table, partition) for partition in crowded])
    rows = table.scan(row_filter=condition).to_arrow()
    before = table.current_snapshot().snapshot_id
    replace_rows(table, rows, condition)
    table.refresh()
    written = table.current_snapshot()
    if written.snapshot_id != before and written.summary is not None:
        result.files_written = int(written.summary.get("added-data-files") or 0)


def _files_needed(files: list) -> int:
    return max(1, math.ceil(sum(file.file_size_in_bytes for file in files) / TARGET_FILE_BYTES))


def partition_filter(table: Table, partition: tuple) -> BooleanExpression:
    """A row filter matching exactly the rows of one partition of the table's spec."""
    terms = []
    schema = table.schema()
    for spec_field, value in zip(table.spec().fields, partition, strict=True):
        source = schema.find_field(spec_field.source_id)
        if value is None:
            terms.append(IsNull(source.name))
        elif isinstance(spec_field.transform, MonthTransform):
            start = date(1970 + value // 12, value % 12 + 1, 1)
            end = date(start.year + start.month // 12, start.month % 12 + 1, 1)
            if isinstance(source.field_type, DateType):
                low, high = start.isoformat(), end.isoformat()
            else:
                low, high = f"{start}T00:00:00", f"{end}T00:00:00"
            terms.append(And(GreaterThanOrEqual(source.name, low), LessThan(source.name, high)))
        elif isinstance(spec_field.transform, IdentityTransform):
            terms.append(EqualTo(source.name, value))
        else:
            raise NotImplementedError(f"no partition filter for {spec_field.transform}")
    if not terms:
        return AlwaysTrue()
    return terms[0] if len(terms) == 1 else And(*terms)


def _any_of(conditions: list[BooleanExpression]) -> BooleanExpression:
    if any(isinstance(condition, AlwaysTrue) for condition in conditions):
        return AlwaysTrue()
    return conditions[0] if len(conditions) == 1 else Or(*conditions)


# --- Snapshot expiry -------------------------------------------------------------------


def expire_snapshots(
    table: Table, result: TableMaintenance, *, keep: set[int], dry_run: bool
) -> None:
    """Expire every snapshot not in ``keep``."""
    expired = [
        snapshot.snapshot_id for snapshot in table.snapshots() if snapshot.snapshot_id not in keep
    ]
    result.snapshots_expired = len(expired)
    if expired and not dry_run:
        table.maintenance.expire_snapshots().by_ids(expired).commit()


# --- Orphan files ----------------------------------------------------------------------


def referenced_files(table: Table, *, snapshots: set[int] | None = None) -> set[str]:
    """Every file the table's metadata refers to: metadata files, manifest
    lists, manifests and the live data files of every snapshot it keeps (of
    ``snapshots`` only, when given)."""
    referenced = {table.metadata_location}
    referenced |= {entry.metadata_file for entry in table.metadata.metadata_log}
    referenced |= {statistics.statistics_path for statistics in table.metadata.statistics}
    manifests_seen: set[str] = set()
    for snapshot in table.snapshots():
        if snapshots is not None and snapshot.snapshot_id not in snapshots:
            continue
        referenced.add(snapshot.manifest_list)
        for manifest in snapshot.manifests(table.io):
            if manifest.manifest_path in manifests_seen:
                continue
            manifests_seen.add(manifest.manifest_path)
            referenced.add(manifest.manifest_path)
            for entry in manifest.fetch_manifest_entry(table.io, discard_deleted=True):
                referenced.add(entry.data_file.file_path)
    return referenced


# pyiceberg names what a commit writes by its UUID: the manifest list
# "snap-<snapshot>-<attempt>-<uuid>.avro", manifests "<uuid>-m<n>.avro",
# data files "00000-<task>-<uuid>.parquet".
WRITE_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def committed_writes(table: Table) -> set[str]:
    """The UUIDs of the commits whose snapshots the table keeps."""
    return {
        found.group()
        for snapshot in table.snapshots()
        if (found := WRITE_UUID.search(snapshot.manifest_list.rpartition("/")[2]))
    }


def remove_orphan_files(
    table: Table,
    result: TableMaintenance,
    *,
    referenced: set[str],
    named: set[str],
    min_age: timedelta,
    dry_run: bool,
) -> None:
    """Delete the files under the table's location that nothing ``referenced``:
    at once those ``named`` (paths a commit referred to, or the UUIDs of
    commits, which name every file a commit writes), the others once older
    than ``min_age`` (a writer outside the lock may still be writing them)."""
    referenced = {_path(uri) for uri in referenced}
    named = {_path(uri) if "/" in uri else uri for uri in named}
    newest = time.time_ns() - int(min_age.total_seconds() * 1e9)
    filesystem, files = _files_under(table)
    for info in files:
        path = _checksummed(_path(info.path))  # a checksum goes and stays with its file
        if path in referenced:
            continue
        write = WRITE_UUID.search(path.rpartition("/")[2])
        made_by_a_commit = path in named or (write is not None and write.group() in named)
        if not made_by_a_commit and (info.mtime_ns is None or info.mtime_ns > newest):
            result.orphans_kept += 1
            continue
        result.files_removed += 1
        result.bytes_removed += info.size or 0
        if not dry_run:
            filesystem.delete_file(info.path)


def _checksummed(path: str) -> str:
    """The file a Hadoop checksum file (``.<name>.crc``, beside each file Spark
    writes to a local warehouse) checks; any other path as it is."""
    folder, _, name = path.rpartition("/")
    if name.startswith(".") and name.endswith(".crc"):
        return f"{folder}/{name[1:-4]}"
    return path


def storage_usage(table: Table) -> tuple[int, int]:
    """(files, bytes) under the table's location: data, manifests and metadata."""
    _, files = _files_under(table)
    return len(files), sum(info.size or 0 for info in files)


def _files_under(table: Table) -> tuple[fs.FileSystem, list[fs.FileInfo]]:
    """The filesystem of the table's location and every file under it."""
    filesystem, root = fs.FileSystem.from_uri(table.location())
    try:
        listing = filesystem.get_file_info(fs.FileSelector(root, recursive=True))
    except FileNotFoundError:
        return filesystem, []
    return filesystem, [info for info in listing if info.type == fs.FileType.File]


def _path(uri: str) -> str:
    """A file's path without its scheme: ``file:///a/b`` (pyiceberg), ``file:/a/b``
    (Iceberg's Java library, through Hadoop) and ``/a/b`` alike."""
    if uri.startswith("file:"):
        return "/" + uri.removeprefix("file:").lstrip("/")
    _, _, rest = uri.rpartition("://")
    return rest
