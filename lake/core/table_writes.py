"""Writing rows into a lake table: one snapshot per merge, manifests kept few.

Every run merges a few rows into the tables it changes; what each merge
leaves behind (snapshots, manifests, small files) is what a later run plans
from and maintenance cleans up, so it is kept as small as a merge allows.

pyiceberg has no public API for this, so it is built from pyiceberg's own
private parts, as its ``overwrite`` and ``delete`` use them: the strict
metrics evaluator (may every row of a file match?), the complementary Arrow
filter (the rows a file keeps), ``_dataframe_to_data_files`` (write rows as
data files of the table's partition spec), and the snapshot producers
``_OverwriteFiles`` and ``_MergeAppendFiles`` (whose ``_process_manifests``
merges manifests by the attributes its ``__init__`` sets, copied here).
tests/lake/test_table_writes.py fails when pyiceberg is no longer the
version this was written for.
"""

import pyarrow as pa
from pyiceberg.expressions import AlwaysTrue, BooleanExpression
from pyiceberg.expressions.visitors import _StrictMetricsEvaluator, bind
from pyiceberg.io.pyarrow import (
    ArrowScan,
    _dataframe_to_data_files,
    _expression_to_complementary_pyarrow,
)
from pyiceberg.table import Table, TableProperties, Transaction
from pyiceberg.table.snapshots import Operation
from pyiceberg.table.update.snapshot import _MergeAppendFiles, _OverwriteFiles
from pyiceberg.utils.properties import property_as_bool, property_as_int

OVERRIDES_WRITTEN_FOR = {"pyiceberg": "0.12.0"}


def replace_rows(table: Table, rows: pa.Table, condition: BooleanExpression) -> None:
    """Delete the rows matching ``condition`` and append ``rows``: one snapshot.

    pyiceberg's ``overwrite`` commits a delete and then an append, two
    snapshots, and writes the rows it keeps from a rewritten file apart from
    the new ones. Here a file holding a matching row is read, and its other
    rows are written with the new rows, partition by partition, in one
    overwrite snapshot (copy-on-write, as pyiceberg's own delete; a file
    every row of which matches is dropped unread); when no file holds a
    matching row, the rows are appended. Both merge the table's manifests.
    """
    with table.transaction() as transaction:
        metadata = transaction.table_metadata
        schema = metadata.schema()
        # The files that may hold a matching row (by partition and column statistics).
        tasks = table.scan(row_filter=condition).plan_files() if table.current_snapshot() else []
        keep = _expression_to_complementary_pyarrow(bind(schema, condition, True), schema)
        # A file whose statistics say every row matches goes unread (a full run, compaction).
        all_rows_match = _StrictMetricsEvaluator(schema, condition, case_sensitive=True).eval
        replaced, kept = [], [rows]
        for task in tasks:
            if all_rows_match(task.file):
                replaced.append(task.file)
                continue
            existing = ArrowScan(metadata, table.io, schema, AlwaysTrue()).to_table(tasks=[task])
            remaining = existing.filter(keep)
            if remaining.num_rows < existing.num_rows:
                replaced.append(task.file)
                kept.append(remaining.cast(rows.schema))
        if not replaced and not rows.num_rows:
            return
        if replaced:
            producer = _MergingOverwrite(transaction)
        else:
            producer = transaction.update_snapshot().merge_append()
        with producer:
            for data_file in replaced:
                producer.delete_data_file(data_file)
            written = pa.concat_tables(kept)
            if written.num_rows:
                for data_file in _dataframe_to_data_files(
                    table_metadata=metadata, write_uuid=producer.commit_uuid, df=written,
                    io=table.io,
                ):  # fmt: skip
                    producer.append_data_file(data_file)


class _MergingOverwrite(_OverwriteFiles):
    """pyiceberg's overwrite, merging the new snapshot's manifests as its
    merge-append does (pyiceberg merges on append only): a table whose rows
    change in place (a return updates its rental) would otherwise gain a
    manifest with every merge, and every scan plans from all of them."""

    def __init__(self, transaction: Transaction) -> None:
        super().__init__(Operation.OVERWRITE, transaction, transaction._table.io)
        properties = transaction.table_metadata.properties
        self._target_size_bytes = property_as_int(
            properties,
            TableProperties.MANIFEST_TARGET_SIZE_BYTES,
            TableProperties.MANIFEST_TARGET_SIZE_BYTES_DEFAULT,
        )
        self._min_count_to_merge = property_as_int(
            properties,
            TableProperties.MANIFEST_MIN_MERGE_COUNT,
            TableProperties.MANIFEST_MIN_MERGE_COUNT_DEFAULT,
        )
        self._merge_enabled = property_as_bool(
            properties,
            TableProperties.MANIFEST_MERGE_ENABLED,
            TableProperties.MANIFEST_MERGE_ENABLED_DEFAULT,
        )

    _process_manifests = _MergeAppendFiles._process_manifests
