"""What a table's kept history costs a run: one merge's time against the
number of snapshots the table keeps (the retention window holds every
snapshot a run inside it published: 7 days of event-driven runs is
thousands of them on the tables each run changes).

A table of 10,000 rows partitioned by month gets one-row merges (the lake's
``replace_rows``, as an incremental run makes them) until it holds
``--snapshots``; the median of 10 merges is printed at each checkpoint,
with the merge on the same table right after it was created as the baseline,
and the size of the table's metadata file.

    python bench/history.py                       # up to 2,000 snapshots
    python bench/history.py --snapshots 500
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--snapshots", type=int, default=2000)
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="bench-history-")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="sakila_site.settings",
        SAKILA_VAR_DIR=scratch,
        LAKE_WAREHOUSE=f"{scratch}/lake",
        LAKE_CATALOG_URI=f"sqlite:///{scratch}/catalog.sqlite3",
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import pyarrow as pa
    from pyiceberg.expressions import AlwaysTrue, EqualTo

    from lake.catalog import ensure_table
    from lake.core.table_writes import replace_rows

    schema = pa.schema([
        pa.field("rental_id", pa.int64(), nullable=False),
        pa.field("rental_date", pa.date32()),
        pa.field("amount", pa.int64()),
    ])  # fmt: skip
    start = date(2005, 1, 1)
    table = ensure_table("staging.history", schema, month_partition="rental_date")
    replace_rows(table, pa.table([list(range(10_000)),
                                  [start + timedelta(days=i % 365) for i in range(10_000)],
                                  [1] * 10_000], schema=schema), AlwaysTrue())  # fmt: skip

    def merge(key: int) -> float:
        row = pa.table([[key], [start + timedelta(days=key % 365)], [key]], schema=schema)
        started = time.perf_counter()
        table.refresh()
        replace_rows(table, row, EqualTo("rental_id", key))
        return time.perf_counter() - started

    print(f"{'snapshots':>10}{'merge ms':>10}{'x first':>9}{'metadata KB':>13}", flush=True)
    baseline = None
    checkpoints = sorted({10, 100, 250, 500, 1000, 1500, 2000, args.snapshots})
    key = 0
    for checkpoint in [c for c in checkpoints if c <= args.snapshots]:
        while len(table.snapshots()) < checkpoint:
            merge(key % 10_000)
            key += 1
        timed = statistics.median(merge(key + i) for i in range(10))
        key += 10
        baseline = baseline or timed
        size = Path(table.metadata_location.removeprefix("file://")).stat().st_size
        print(f"{len(table.snapshots()):>10}{timed * 1000:>10.0f}{timed / baseline:>9.1f}"
              f"{size / 1024:>13.0f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
