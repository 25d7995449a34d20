"""Extract: the rows of each source table changed since its watermark.

All tables are read in one consistent snapshot of the rental database (one
read transaction), streamed in Arrow record batches, and written to the raw
zone as they arrive (``raw/<table>/run_id=<n>/part-00000.parquet``).

A full SQLite read uses ADBC, straight into Arrow, in a child process: ADBC
carries its own copy of SQLite, and two copies of SQLite on one database
file in one process break each other's POSIX locks (SQLite's "multiple
copies" hazard; seen here as "disk I/O error" and lost reads). Incremental
SQLite reads are small and use Python's sqlite3 in this process. MySQL is
read in this process with a server-side cursor.
"""

import multiprocessing
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyarrow as pa
from django.conf import settings
from django.db import connection, models
from django.utils import timezone

from lake.catalog import warehouse_uri
from lake.pipeline.raw import RawWriter, extract_sqlite_adbc, extract_sqlite_python, read_raw
from lake.pipeline.schemas import FULLY_EXTRACTED, lake_fields, staging_schema, table_name


@dataclass
class Extract:
    table: str
    rows: pa.Table  # in the staging schema
    watermark: datetime  # when the read began: the next run reads from here
    files: int
    started: datetime
    finished: datetime
    # The table's row count in the same read (incremental runs): fewer rows than
    # staging holds means rows were deleted.
    source_rows: int | None = None


def extract_tables(
    source_models: list[type[models.Model]], *, since: dict[str, datetime], run_id: int
) -> dict[str, Extract]:
    """Each table's rows with last_update at or after its ``since`` (all rows without one).

    The new watermark is the time the consistent read began: every change
    committed before it has been read, whether or not the table had any.
    """
    read_at = timezone.now()
    plan = {}
    for model in source_models:
        name = table_name(model)
        start = None if name in FULLY_EXTRACTED else since.get(name)
        if start is not None:
            start -= timedelta(seconds=settings.LAKE_EXTRACT_OVERLAP_SECONDS)
        plan[name] = (model, start, f"{warehouse_uri()}/raw/{name}/run_id={run_id}")
    if connection.vendor == "sqlite":
        return _extract_sqlite(plan, read_at)
    if connection.vendor == "mysql":
        return _extract_mysql(plan, read_at)
    raise NotImplementedError(f"no lake extract for {connection.vendor}")


def _where(model: type[models.Model], since: datetime | None, placeholder: str) -> str:
    if since is None:
        return ""
    clause = f" WHERE last_update >= {placeholder}"
    if model._meta.get_field("last_update").null:
        clause += " OR last_update IS NULL"
    return clause


def _extract_sqlite(plan: dict, read_at: datetime) -> dict[str, Extract]:
    jobs = []
    for name, (model, since, directory) in plan.items():
        columns = []
        for field in lake_fields(model):
            # SQLite keeps decimals as REAL and times as text: read both as
            # text, which Arrow parses exactly into decimal and timestamp.
            if isinstance(field, (models.DecimalField, models.DateTimeField)):
                columns.append(f'CAST("{field.column}" AS TEXT) AS "{field.column}"')
            else:
                columns.append(f'"{field.column}"')
        sql = f'SELECT {", ".join(columns)} FROM "{name}"' + _where(model, since, "?")
        jobs.append({
            "table": name, "sql": sql,
            "parameters": () if since is None else (since.isoformat(" "),),
            "schema": staging_schema(model).serialize().to_pybytes(), "directory": directory,
            "count_sql": f'SELECT COUNT(*) FROM "{name}"' if since is not None else None,
        })  # fmt: skip
    arguments = (str(connection.settings_dict["NAME"]), jobs, settings.LAKE_EXTRACT_BATCH_ROWS)
    if all(since is not None or name in FULLY_EXTRACTED for name, (_, since, _) in plan.items()):
        # An incremental run reads few rows: Python's sqlite3 (Django's own
        # copy of SQLite) in this process costs less than starting a child.
        results = extract_sqlite_python(*arguments)
    else:
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            results = pool.apply(extract_sqlite_adbc, arguments)
    extracts = {}
    for result in results:
        model, _, directory = plan[result["table"]]
        extracts[result["table"]] = Extract(
            table=result["table"],
            rows=read_raw(directory, staging_schema(model), result["files"]),
            watermark=read_at,
            files=result["files"],
            started=datetime.fromtimestamp(result["started"]),
            finished=datetime.fromtimestamp(result["finished"]),
            source_rows=result["source_rows"],
        )
    return extracts


def _extract_mysql(plan: dict, read_at: datetime) -> dict[str, Extract]:
    """mysqlclient, a server-side cursor per table, inside one consistent snapshot."""
    import MySQLdb
    import MySQLdb.cursors

    db = connection.settings_dict
    source = MySQLdb.connect(
        host=db["HOST"] or "127.0.0.1", port=int(db["PORT"] or 3306), user=db["USER"],
        password=db["PASSWORD"] or "", database=db["NAME"], charset="utf8mb4",
    )  # fmt: skip
    extracts = {}
    try:
        with source.cursor() as cursor:
            cursor.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
        for name, (model, since, directory) in plan.items():
            started = datetime.now()
            schema = staging_schema(model)
            columns = ", ".join(f"`{column}`" for column in schema.names)
            sql = f"SELECT {columns} FROM `{name}`" + _where(model, since, "%s")
            cursor = source.cursor(MySQLdb.cursors.SSCursor)
            with RawWriter(directory, schema) as raw:
                cursor.execute(sql, () if since is None else (since,))
                while rows := cursor.fetchmany(settings.LAKE_EXTRACT_BATCH_ROWS):
                    raw.write(_mysql_batch(rows, schema))
            source_rows = None
            if since is not None:
                cursor.execute(f"SELECT COUNT(*) FROM `{name}`")
                source_rows = cursor.fetchone()[0]
            cursor.close()
            extracts[name] = Extract(
                name, raw.read(), read_at, raw.files, started, datetime.now(), source_rows
            )
        source.rollback()
    finally:
        source.close()
    return extracts


def _mysql_batch(rows: list[tuple], schema: pa.Schema) -> pa.RecordBatch:
    arrays = []
    for values, field in zip(zip(*rows, strict=True), schema, strict=True):
        if pa.types.is_boolean(field.type):
            values = [None if v is None else bool(v) for v in values]
        elif pa.types.is_string(field.type):  # SET columns may arrive as Python sets
            values = [",".join(sorted(v)) if isinstance(v, set) else v for v in values]
        arrays.append(pa.array(values, type=field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)
