"""Iceberg tags that keep published snapshots from every snapshot expiry:
ours (lake/core/table_maintenance.py), Glue's snapshot retention optimizer,
Iceberg's own ``expire_snapshots``. Each of them keeps a tagged snapshot
until its tag is older than the tag's max ref age.

- ``published`` is on the snapshot readers read now, with no max age: kept
  however long nothing publishes, whatever compaction commits after it.
- When a publish replaces a table's snapshot, the one it replaces gets the tag
  ``run-<n>`` (the last run that published it) with a max ref age that ends
  ``window`` after now: time travel to the runs inside the retention window
  keeps working, and then the tag, and the snapshot, may go.

Iceberg measures a tag's age from its snapshot's commit time, not from when
the tag was made, hence the age computed here.
"""

from datetime import UTC, datetime, timedelta

from pyiceberg.exceptions import CommitFailedException
from pyiceberg.table import Table
from pyiceberg.table.refs import SnapshotRefType

PUBLISHED = "published"
COMMIT_ATTEMPTS = 3  # another writer (Glue's compaction) may commit meanwhile


def tag_published(
    table: Table,
    snapshot_id: int,
    *,
    previous_run: int | None,
    window: timedelta,
    now: datetime | None = None,
) -> None:
    """Tag ``snapshot_id`` as published and keep the snapshot it replaces for
    ``window`` (tagged ``run-<previous_run>``); one commit, retried on conflict."""
    for attempt in range(COMMIT_ATTEMPTS):
        refs = table.metadata.refs
        replaced = refs[PUBLISHED].snapshot_id if PUBLISHED in refs else None
        if replaced == snapshot_id:
            return
        try:
            with table.manage_snapshots() as manage:
                manage.create_tag(snapshot_id, PUBLISHED)
                old = table.snapshot_by_id(replaced) if replaced is not None else None
                if old is not None and previous_run is not None:
                    age = _millis(now) - old.timestamp_ms
                    max_age = max(age, 0) + int(window.total_seconds() * 1000)
                    manage.create_tag(replaced, run_tag(previous_run), max_ref_age_ms=max_age)
            return
        except CommitFailedException:
            if attempt == COMMIT_ATTEMPTS - 1:
                raise
            table.refresh()


def expired_tags(table: Table, now: datetime | None = None) -> list[str]:
    """The tags older than their max ref age (Iceberg's expiry drops them)."""
    expired = []
    for name, ref in table.metadata.refs.items():
        if ref.snapshot_ref_type != SnapshotRefType.TAG or ref.max_ref_age_ms is None:
            continue
        snapshot = table.snapshot_by_id(ref.snapshot_id)
        if snapshot is None or _millis(now) - snapshot.timestamp_ms > ref.max_ref_age_ms:
            expired.append(name)
    return sorted(expired)


def run_tag(run_id: int) -> str:
    return f"run-{run_id}"


def retired_tags(table: Table, runs: list[int]) -> list[str]:
    """The tags of runs that time travel no longer reaches (maintenance retired them)."""
    names = {run_tag(run) for run in runs}
    return sorted(name for name in table.metadata.refs if name in names)


def remove_tags(table: Table, names: list[str]) -> None:
    if names:
        with table.manage_snapshots() as manage:
            for name in names:
                manage.remove_tag(name)


def tagged_snapshots(table: Table, now: datetime | None = None) -> set[int]:
    """The snapshots that a branch or an unexpired tag refers to."""
    expired = set(expired_tags(table, now))
    return {ref.snapshot_id for name, ref in table.metadata.refs.items() if name not in expired}


def _millis(when: datetime | None) -> int:
    """Epoch milliseconds, as Iceberg's snapshot times (a naive time is the process's local)."""
    return int((when or datetime.now(UTC)).timestamp() * 1000)
