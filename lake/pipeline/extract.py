"""Extract: the rows of each source table changed since its watermark.

All tables are read in one consistent snapshot of the rental database (one
read transaction), streamed in Arrow record batches, and each batch is
written to the raw zone as it arrives (``raw/<table>/run_id=<n>/``). SQLite
is read with ADBC straight into Arrow; MySQL with a server-side cursor.
"""

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.conf import settings
from django.db import connection, models
from pyarrow import fs

from lake.catalog import warehouse_uri
from lake.schemas import staging_schema, table_name


@dataclass
class Extract:
    table: str
    rows: pa.Table  # in the staging schema
    watermark: datetime | None  # largest last_update read, or None when no row was
    files: int


def extract_table(
    reader: "SourceReader", model: type[models.Model], *, since: datetime | None, run_id: int
) -> Extract:
    """Rows of ``model`` with last_update at or after ``since`` (all rows when None)."""
    schema = staging_schema(model)
    table = table_name(model)
    if since is not None:
        since -= timedelta(seconds=settings.LAKE_EXTRACT_OVERLAP_SECONDS)
    batches = []
    with RawWriter(table, run_id, schema) as raw:
        for batch in reader.batches(model, since):
            batch = conform(batch, schema)
            raw.write(batch)
            batches.append(batch)
    rows = pa.Table.from_batches(batches, schema=schema)
    watermark = pc.max(rows["last_update"]).as_py() if rows.num_rows else None
    return Extract(table, rows, watermark, raw.files)


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
    """Writes one table's batches of one run as Parquet in the raw zone."""

    def __init__(self, table: str, run_id: int, schema: pa.Schema) -> None:
        self.filesystem, root = fs.FileSystem.from_uri(warehouse_uri())
        self.directory = f"{root}/raw/{table}/run_id={run_id}"
        self.schema = schema
        self.writer: pq.ParquetWriter | None = None
        self.files = 0

    def __enter__(self) -> "RawWriter":
        return self

    def write(self, batch: pa.RecordBatch) -> None:
        if self.writer is None:
            self.filesystem.create_dir(self.directory, recursive=True)
            path = f"{self.directory}/part-00000.parquet"
            self.writer = pq.ParquetWriter(path, self.schema, filesystem=self.filesystem)
            self.files = 1
        self.writer.write_batch(batch)

    def __exit__(self, *exc_info) -> None:
        if self.writer is not None:
            self.writer.close()


class SourceReader(AbstractContextManager):
    """One consistent read of the rental database, table by table."""

    def batches(
        self, model: type[models.Model], since: datetime | None
    ) -> Iterator[pa.RecordBatch]:
        raise NotImplementedError

    @staticmethod
    def where(model: type[models.Model], since: datetime | None, placeholder: str) -> str:
        if since is None:
            return ""
        clause = f" WHERE last_update >= {placeholder}"
        if model._meta.get_field("last_update").null:
            clause += " OR last_update IS NULL"
        return clause


def source_reader() -> SourceReader:
    if connection.vendor == "sqlite":
        return SqliteSourceReader(connection.settings_dict["NAME"])
    if connection.vendor == "mysql":
        return MysqlSourceReader(connection.settings_dict)
    raise NotImplementedError(f"no lake extract for {connection.vendor}")


class SqliteSourceReader(SourceReader):
    """ADBC's SQLite driver: rows arrive as Arrow batches, no Python objects.

    Outside autocommit the driver holds one read transaction, and SQLite's
    WAL gives it a snapshot that concurrent writes do not change.
    """

    def __init__(self, path: str) -> None:
        self.path = str(path)

    def __enter__(self) -> "SqliteSourceReader":
        import adbc_driver_sqlite.dbapi

        self.connection = adbc_driver_sqlite.dbapi.connect(self.path)
        self.cursor = self.connection.cursor()
        self.cursor.adbc_statement.set_options(
            **{"adbc.sqlite.query.batch_rows": str(settings.LAKE_EXTRACT_BATCH_ROWS)}
        )
        return self

    def __exit__(self, *exc_info) -> None:
        self.connection.rollback()
        self.cursor.close()
        self.connection.close()

    def batches(self, model, since):
        columns = []
        for field in model._meta.concrete_fields:
            if not field.column:
                continue
            # SQLite keeps decimals as REAL and times as text: read both as
            # text, which Arrow parses exactly into decimal and timestamp.
            if isinstance(field, (models.DecimalField, models.DateTimeField)):
                columns.append(f'CAST("{field.column}" AS TEXT) AS "{field.column}"')
            else:
                columns.append(f'"{field.column}"')
        sql = f'SELECT {", ".join(columns)} FROM "{table_name(model)}"'
        sql += self.where(model, since, "?")
        parameters = () if since is None else (since.isoformat(" "),)
        self.cursor.execute(sql, parameters)
        yield from self.cursor.fetch_record_batch()


class MysqlSourceReader(SourceReader):
    """mysqlclient with a server-side cursor inside one consistent snapshot."""

    def __init__(self, settings_dict: dict) -> None:
        self.settings_dict = settings_dict

    def __enter__(self) -> "MysqlSourceReader":
        import MySQLdb

        db = self.settings_dict
        self.connection = MySQLdb.connect(
            host=db["HOST"] or "127.0.0.1",
            port=int(db["PORT"] or 3306),
            user=db["USER"],
            password=db["PASSWORD"] or "",
            database=db["NAME"],
            charset="utf8mb4",
        )
        cursor = self.connection.cursor()
        cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
        cursor.close()
        return self

    def __exit__(self, *exc_info) -> None:
        self.connection.rollback()
        self.connection.close()

    def batches(self, model, since):
        import MySQLdb.cursors

        schema = staging_schema(model)
        columns = ", ".join(f"`{name}`" for name in schema.names)
        sql = f"SELECT {columns} FROM `{table_name(model)}`" + self.where(model, since, "%s")
        cursor = self.connection.cursor(MySQLdb.cursors.SSCursor)
        try:
            cursor.execute(sql, () if since is None else (since,))
            while rows := cursor.fetchmany(settings.LAKE_EXTRACT_BATCH_ROWS):
                yield pa.RecordBatch.from_arrays(
                    [
                        pa.array(_mysql_values(values, field.type), type=field.type)
                        for values, field in zip(zip(*rows, strict=True), schema, strict=True)
                    ],
                    schema=schema,
                )
        finally:
            cursor.close()


def _mysql_values(values: tuple, arrow_type: pa.DataType) -> list:
    if pa.types.is_boolean(arrow_type):
        return [None if v is None else bool(v) for v in values]
    if pa.types.is_string(arrow_type):
        # SET columns may arrive as Python sets.
        return [",".join(sorted(v)) if isinstance(v, set) else v for v in values]
    return list(values)
