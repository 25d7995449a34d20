"""What the columns of MySQL's official Sakila schema hold, and ids that run out.

The models validate values against the official widths and ranges
(``film.title`` VARCHAR(128), ``rental_duration`` TINYINT UNSIGNED...), so a
form, the API or ``load_sakila`` refuses what the official database would
refuse with a DataError. Ids are the exception: our migrations make them INT,
while a database made by MySQL's own DDL has SMALLINT/TINYINT/MEDIUMINT ids.
``id_range`` reads the actual column type of the database in use, and
``next_id_check`` refuses a new row whose id would not fit, naming the column
and the way to widen it (``python manage.py widen_ids``).
"""

import time
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.core.validators import BaseValidator
from django.db import DataError, connections, models
from django.utils.deconstruct import deconstructible

# MySQL's integer types: (lowest, highest).
INTEGER_RANGES = {
    "tinyint": (-(2**7), 2**7 - 1),
    "tinyint unsigned": (0, 2**8 - 1),
    "smallint": (-(2**15), 2**15 - 1),
    "smallint unsigned": (0, 2**16 - 1),
    "mediumint": (-(2**23), 2**23 - 1),
    "mediumint unsigned": (0, 2**24 - 1),
    "int": (-(2**31), 2**31 - 1),
    "int unsigned": (0, 2**32 - 1),
    "bigint": (-(2**63), 2**63 - 1),
    "bigint unsigned": (0, 2**64 - 1),
}
TINYINT_UNSIGNED_MAX = INTEGER_RANGES["tinyint unsigned"][1]
SMALLINT_UNSIGNED_MAX = INTEGER_RANGES["smallint unsigned"][1]
# TEXT and BLOB hold at most 65,535 bytes (characters can take up to 4 in utf8mb4).
TEXT_MAX_BYTES = 65_535
# What our own migrations make every id: INT.
OUR_ID_TYPE = "int"

IDS_EXHAUSTED = (
    "No new {what} can be recorded: the {table} table's {column} column ({type}) holds ids up "
    "to {highest:,}, and {highest:,} is taken. An administrator must widen the ids first "
    "(python manage.py widen_ids, see docs/operations.md); nothing was written."
)
ID_OUT_OF_RANGE = "{value} does not fit {table}.{column} ({type}: {lowest} to {highest:,})"

_CACHE_SECONDS = 60
_column_types: dict[str, tuple[float, dict[tuple[str, str], str]]] = {}


@deconstructible
class MaxBytesValidator(BaseValidator):
    """At most ``limit_value`` bytes once encoded as UTF-8 (MySQL's TEXT, BLOB)."""

    message = "Ensure this value has at most %(limit_value)s bytes (it has %(show_value)s)."
    code = "max_bytes"

    def compare(self, a, b):
        return a > b

    def clean(self, x):
        return len(x.encode("utf-8")) if isinstance(x, str) else len(x)


def integer_type(text: str) -> str:
    """MySQL's COLUMN_TYPE (``smallint(5) unsigned``) as a key of INTEGER_RANGES."""
    words = text.lower().replace("(", " (").split()
    name = words[0]
    return f"{name} unsigned" if "unsigned" in words else name


def column_types(using: str = "default") -> dict[tuple[str, str], str]:
    """{(table, column): integer type} of the database's integer columns (MySQL only).

    Read from information_schema, kept a minute: ``widen_ids`` run from
    another process is seen within that time.
    """
    connection = connections[using]
    if connection.vendor != "mysql":
        return {}  # our migrations: every id INT
    cached = _column_types.get(using)
    if cached and time.monotonic() - cached[0] < _CACHE_SECONDS:
        return cached[1]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = DATABASE() AND DATA_TYPE IN "
            "('tinyint', 'smallint', 'mediumint', 'int', 'bigint')"
        )
        types = {(table, column): integer_type(kind) for table, column, kind in cursor.fetchall()}
    _column_types[using] = (time.monotonic(), types)
    return types


def forget_column_types() -> None:
    _column_types.clear()


def id_type(field: models.Field, using: str = "default") -> str:
    """The integer type of an id column (primary or foreign key) in the database in use."""
    table = field.model._meta.db_table
    return column_types(using).get((table, field.column), OUR_ID_TYPE)


def id_range(field: models.Field, using: str = "default") -> tuple[int, int, str]:
    """(lowest, highest, type) an id column holds in the database in use."""
    kind = id_type(field, using)
    lowest, highest = INTEGER_RANGES[kind]
    return lowest, highest, kind.upper()


def next_id_check(model: type[models.Model], *, what: str, using: str = "default") -> None:
    """Refuse, before writing, a new ``model`` row whose automatic id would not fit.

    Only a database with narrow ids (MySQL's own DDL) can run out this side
    of INT: the check costs one indexed MAX() there, nothing elsewhere.
    """
    field = model._meta.pk
    if id_type(field, using) == OUR_ID_TYPE:
        return
    _, highest, kind = id_range(field, using)
    biggest = model.objects.using(using).aggregate(top=models.Max(field.attname))["top"]
    if biggest is not None and biggest >= highest:
        raise ids_exhausted(model, what=what, kind=kind, highest=highest)


def ids_exhausted(model, *, what: str, kind: str, highest: int) -> ValidationError:
    message = IDS_EXHAUSTED.format(
        what=what, table=model._meta.db_table, column=model._meta.pk.column, type=kind,
        highest=highest,
    )  # fmt: skip
    return ValidationError(message, code="ids_exhausted")


@contextmanager
def new_id_guard(model: type[models.Model], *, what: str, using: str = "default"):
    """``next_id_check`` before the insert inside, and the same message if the
    database still says the id is out of range (its counter can run ahead of
    the highest id after rolled-back inserts)."""
    next_id_check(model, what=what, using=using)
    try:
        yield
    except DataError as error:
        column = model._meta.pk.column
        if "Out of range" not in str(error) or f"'{column}'" not in str(error):
            raise
        _, highest, kind = id_range(model._meta.pk, using)
        raise ids_exhausted(model, what=what, kind=kind, highest=highest) from error
