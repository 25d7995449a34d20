"""A fix from pyiceberg's main line that no release we can install carries yet.

``Transaction.table_metadata`` replays the staged updates and deep-copies
the whole table metadata, every snapshot included, on each read; a commit
reads it dozens of times, so a commit's cost grew with the table's history
(37% of an incremental run after 60 runs of the soak, bench/soak.py).
Upstream caches the result while neither the table's metadata nor the
staged updates change (apache/iceberg-python#3302, approved by a maintainer,
carried on as #3784): this is that cache. Both inputs are immutable and
replaced, never changed in place (``_updates`` is a tuple), so their
identities are the cache's key. Drop this module once a release has it.

It assumes, of pyiceberg 0.12.0: ``Transaction.table_metadata`` is a
property computing ``update_table_metadata(self._table.metadata,
self._updates)``, and a transaction replaces ``_updates`` (a tuple) and its
table's metadata rather than changing them in place. tests/lake/
test_table_writes.py fails when pyiceberg is another version: read the new
``Transaction`` against this, and drop the module if upstream caches.
"""

from pyiceberg.table import Transaction
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.update import update_table_metadata

OVERRIDES_WRITTEN_FOR = {"pyiceberg": "0.12.0"}


def _table_metadata(self: Transaction) -> TableMetadata:
    cached = self.__dict__.get("_lake_metadata_cache")
    if cached is not None and cached[0] is self._table.metadata and cached[1] is self._updates:
        return cached[2]
    metadata = update_table_metadata(self._table.metadata, self._updates)
    # Holding both inputs keeps their ids from being reused while cached.
    self._lake_metadata_cache = (self._table.metadata, self._updates, metadata)
    return metadata


def apply() -> None:
    """Install the cache (once; importing lake.catalog does it)."""
    if getattr(Transaction.table_metadata, "fget", None) is not _table_metadata:
        Transaction.table_metadata = property(_table_metadata)
