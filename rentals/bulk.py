"""Bulk writes for loading and generating whole Sakila databases.

Rows go in with ``executemany`` on one INSERT per table, bypassing model
instances: at scale 100 (3.2 million rentals and payments) per-object saves
would take an hour. Table and column names come from model metadata, never
from input; values are always bound parameters.
"""

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from django.core.management.color import no_style
from django.db import connection, models

from rentals.models import SAKILA_MODELS, StaffProfile

BATCH_SIZE = 5000


def table_columns(model: type[models.Model]) -> list[str]:
    """The model's columns, in declaration order (a composite pk has none of its own)."""
    return [field.column for field in model._meta.concrete_fields if field.column]


def insert_rows(
    model: type[models.Model], columns: Sequence[str] | None, rows: Iterable[Sequence]
) -> int:
    """INSERT every row (values in ``columns`` order, default all) in batches; return the count."""
    writer = BatchWriter(model, columns)
    for row in rows:
        writer.add(row)
    writer.flush()
    return writer.count


class BatchWriter:
    """Collects rows for one table and INSERTs them a batch at a time."""

    def __init__(self, model: type[models.Model], columns: Sequence[str] | None = None) -> None:
        columns = table_columns(model) if columns is None else columns
        quote = connection.ops.quote_name
        self.sql = "INSERT INTO {} ({}) VALUES ({})".format(
            quote(model._meta.db_table),
            ", ".join(quote(column) for column in columns),
            ", ".join(["%s"] * len(columns)),
        )
        self.pending: list[Sequence] = []
        self.count = 0

    def add(self, row: Sequence) -> None:
        self.pending.append(row)
        if len(self.pending) >= BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            with connection.cursor() as cursor:
                cursor.executemany(self.sql, self.pending)
            self.count += len(self.pending)
            self.pending = []


ERROR_NOT_EMPTY = (
    "The database already holds Sakila data ({counts}). Use --replace to delete it first."
)


class SakilaDataExists(ValueError):
    """The Sakila tables are not empty and replacing them was not asked for."""


def sakila_row_counts() -> dict[str, int]:
    return {model._meta.db_table: model.objects.count() for model in SAKILA_MODELS}


def empty_sakila_tables(*, replace: bool) -> None:
    """Refuse to write over Sakila data, or with ``replace`` delete it first.

    Call inside the transaction that writes the new data, so that a failed
    load leaves the old data in place.
    """
    existing = {table: count for table, count in sakila_row_counts().items() if count}
    if existing and not replace:
        counts = ", ".join(f"{count} {table}" for table, count in existing.items())
        raise SakilaDataExists(ERROR_NOT_EMPTY.format(counts=counts))
    if existing:
        delete_sakila_rows()


def delete_sakila_rows() -> None:
    """Empty every Sakila table, children first (call inside a transaction)."""
    quote = connection.ops.quote_name
    # Staff rows go, so the logins that worked as them lose their link.
    StaffProfile.objects.all().delete()
    with connection.cursor() as cursor, foreign_key_checks_deferred():
        for model in reversed(SAKILA_MODELS):
            cursor.execute(f"DELETE FROM {quote(model._meta.db_table)}")


@contextmanager
def foreign_key_checks_deferred() -> Iterator[None]:
    """Let rows reference rows inserted later in the same transaction.

    Needed for the staff/store cycle. SQLite's foreign keys are created
    DEFERRABLE INITIALLY DEFERRED by Django, so they are checked at commit;
    MySQL checks each row at once, so checks are switched off for the
    session, as mysqldump does. Callers validate references themselves.
    """
    if connection.vendor != "mysql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT @@FOREIGN_KEY_CHECKS")
        (previous,) = cursor.fetchone()
        cursor.execute("SET FOREIGN_KEY_CHECKS = 0")
        try:
            yield
        finally:
            cursor.execute("SET FOREIGN_KEY_CHECKS = %s", [previous])


def reset_sequences() -> None:
    """Move auto-increment counters past the largest loaded id.

    SQLite and MySQL advance them on explicit ids already; other backends
    (PostgreSQL) need the statements Django generates here.
    """
    statements = connection.ops.sequence_reset_sql(no_style(), list(SAKILA_MODELS))
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def refresh_statistics() -> None:
    """Have MySQL re-read the tables' statistics after a bulk load (outside a
    transaction: ANALYZE TABLE commits). Without it, the first queries after
    millions of new rows pick plans made for empty tables (a 10 s search)."""
    if connection.vendor != "mysql" or connection.in_atomic_block:
        return
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in SAKILA_MODELS)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE TABLE {tables}")
        cursor.fetchall()
