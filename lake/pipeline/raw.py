"""Reading source rows as Arrow and writing them to the raw zone.

This module imports no Django: the SQLite bulk extract runs it in a child
process (see ``extract.py`` for why).
"""

import sqlite3
import time

import pyarrow as pa
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
        self.directory_uri = directory_uri
        self.filesystem, self.directory = fs.FileSystem.from_uri(directory_uri)
        self.schema = schema
        self.writer: pq.ParquetWriter | None = None
        self.files = 0
        self.rows = 0

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

    def __exit__(self, *exc_info) -> None:
        if self.writer is not None:
            self.writer.close()

    def read(self) -> pa.Table:
        """What was written, back as one table."""
        return read_raw(self.directory_uri, self.schema, self.files)


def read_raw(directory_uri: str, schema: pa.Schema, files: int) -> pa.Table:
    """The rows a RawWriter wrote under ``directory_uri`` (``files``: 0 or 1)."""
    if not files:
        return schema.empty_table()
    filesystem, directory = fs.FileSystem.from_uri(directory_uri)
    return pq.read_table(f"{directory}/part-00000.parquet", filesystem=filesystem, schema=schema)


def extract_jobs(batches_for, jobs: list[dict]) -> list[dict]:
    """Run each job's query and write its rows raw.

    A job is {"table", "sql", "parameters", "schema" (Arrow IPC bytes),
    "directory" (URI), optionally "count_sql"}; the result per job is
    {"table", "rows", "files", "started", "finished", "source_rows"} (times as
    epoch seconds; source_rows: what count_sql counted, in the same read).
    ``batches_for(sql, parameters)`` yields the query's record batches.
    """
    results = []
    for job in jobs:
        started = time.time()
        schema = pa.ipc.read_schema(pa.py_buffer(job["schema"]))
        with RawWriter(job["directory"], schema) as raw:
            for batch in batches_for(job["sql"], job["parameters"]):
                raw.write(batch)
        source_rows = None
        if job.get("count_sql"):
            source_rows = next(iter(batches_for(job["count_sql"], ()))).column(0)[0].as_py()
        results.append({
            "table": job["table"], "rows": raw.rows, "files": raw.files,
            "started": started, "finished": time.time(), "source_rows": source_rows,
        })  # fmt: skip
    return results


def extract_sqlite_adbc(path: str, jobs: list[dict], batch_rows: int) -> list[dict]:
    """Fast bulk reads (full runs); run it in a child process, never beside Django's sqlite3."""
    import adbc_driver_sqlite.dbapi

    # Outside autocommit the driver holds one read transaction: with WAL,
    # a snapshot that concurrent writes do not change.
    with adbc_driver_sqlite.dbapi.connect(path) as connection:
        with connection.cursor() as cursor:
            cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(batch_rows)})

            def batches_for(sql: str, parameters: tuple):
                cursor.execute(sql, parameters)
                yield from cursor.fetch_record_batch()

            results = extract_jobs(batches_for, jobs)
        connection.rollback()
    return results


def extract_sqlite_python(path: str, jobs: list[dict], batch_rows: int) -> list[dict]:
    """Small reads (incremental runs), in this process with Python's sqlite3."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("BEGIN")  # one snapshot for every table

        def batches_for(sql: str, parameters: tuple):
            cursor = connection.execute(sql, parameters)
            names = [column[0] for column in cursor.description]
            while rows := cursor.fetchmany(batch_rows):
                columns = [pa.array(values) for values in zip(*rows, strict=True)]
                yield pa.RecordBatch.from_arrays(columns, names=names)

        return extract_jobs(batches_for, jobs)
    finally:
        connection.execute("ROLLBACK")
        connection.close()
