"""Reading source rows as Arrow and writing them to the raw zone.

This module imports no Django: the SQLite extract runs it in a child process
(see ``extract.py`` for why).
"""

import time
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyarrow import fs


def conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """``batch`` in ``schema``'s types (a driver types an all-NULL column as it likes)."""
    if batch.schema == schema:
        return batch
    columns = [
        pa.nulls(len(column), field.type)
        if column.null_count == len(column)
        else column.cast(field.type)
        for column, field in zip(batch.columns, schema, strict=True)
    ]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


class RawWriter:
    """Writes one table's batches of one run as a Parquet file under ``directory_uri``."""

    def __init__(self, directory_uri: str, schema: pa.Schema) -> None:
        self.filesystem, self.directory = fs.FileSystem.from_uri(directory_uri)
        self.schema = schema
        self.writer: pq.ParquetWriter | None = None
        self.files = 0
        self.rows = 0
        self.watermark: datetime | None = None

    def __enter__(self) -> "RawWriter":
        return self

    def write(self, batch: pa.RecordBatch) -> None:
        batch = conform(batch, self.schema)
        if not batch.num_rows:
            return
        if self.writer is None:
            self.filesystem.create_dir(self.directory, recursive=True)
            path = f"{self.directory}/part-00000.parquet"
            self.writer = pq.ParquetWriter(path, self.schema, filesystem=self.filesystem)
            self.files = 1
        self.writer.write_batch(batch)
        self.rows += batch.num_rows
        latest = pc.max(batch.column("last_update")).as_py()
        if latest is not None and (self.watermark is None or latest > self.watermark):
            self.watermark = latest

    def __exit__(self, *exc_info) -> None:
        if self.writer is not None:
            self.writer.close()

    def read(self) -> pa.Table:
        """What was written, back as one table."""
        if not self.files:
            return self.schema.empty_table()
        path = f"{self.directory}/part-00000.parquet"
        return pq.read_table(path, filesystem=self.filesystem, schema=self.schema)


def extract_sqlite(path: str, jobs: list[dict], batch_rows: int) -> list[dict]:
    """Run each job's query in one read transaction and write its rows raw.

    A job is {"table", "sql", "parameters", "schema" (Arrow IPC bytes),
    "directory" (URI)}; the result per job is {"table", "rows", "files",
    "watermark", "started", "finished"} (times as epoch seconds).
    """
    import adbc_driver_sqlite.dbapi

    results = []
    # Outside autocommit the driver holds one read transaction: with WAL,
    # a snapshot that concurrent writes do not change.
    with adbc_driver_sqlite.dbapi.connect(path) as connection:
        with connection.cursor() as cursor:
            cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(batch_rows)})
            for job in jobs:
                started = time.time()
                schema = pa.ipc.read_schema(pa.py_buffer(job["schema"]))
                cursor.execute(job["sql"], job["parameters"])
                with RawWriter(job["directory"], schema) as raw:
                    for batch in cursor.fetch_record_batch():
                        raw.write(batch)
                results.append({
                    "table": job["table"], "rows": raw.rows, "files": raw.files,
                    "watermark": raw.watermark, "started": started, "finished": time.time(),
                })  # fmt: skip
        connection.rollback()
    return results
