"""Every model field holds what the official Sakila column holds, no more.

The table of official columns is read from MySQL's own DDL
(``data/mysql_sakila_tables.sql``), so a field widened later, or a column
the models miss, fails here. Ids are the one documented difference: INT in
our migrations (wider than the official SMALLINT/TINYINT ids).
"""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import models

from rentals import limits
from rentals.fields import CommaSeparatedSetField, YearField
from rentals.models import SAKILA_MODELS, Film, Payment

DDL = Path(__file__).parent / "data" / "mysql_sakila_tables.sql"
COLUMN = re.compile(r"^\s+(\w+) ([A-Z]+)(?:\(([^)]*)\))?( UNSIGNED)?(.*?),?$")


def official_columns() -> dict[str, dict[str, dict]]:
    """{table: {column: {type, size, unsigned, null}}} from the DDL."""
    tables: dict[str, dict[str, dict]] = {}
    table = None
    for line in DDL.read_text().splitlines():
        if match := re.match(r"CREATE TABLE (\w+)", line):
            table = tables.setdefault(match[1], {})
        elif line.startswith(")"):
            table = None
        elif table is not None and (match := COLUMN.match(line)):
            name, kind, size, unsigned, rest = match.groups()
            if name in {"KEY", "UNIQUE", "PRIMARY", "CONSTRAINT", "FULLTEXT"}:
                continue
            null = "NOT NULL" not in rest and not (kind == "TIMESTAMP" and "NULL" not in rest)
            table[name] = {"type": kind, "size": size, "unsigned": bool(unsigned), "null": null}
    return tables


OFFICIAL = official_columns()
FIELDS = [
    pytest.param(model, field, id=f"{model._meta.db_table}.{field.column}")
    for model in SAKILA_MODELS
    for field in model._meta.concrete_fields
    if field.column
]


def test_the_ddl_is_read_whole():
    assert len(OFFICIAL) == 16
    assert OFFICIAL["film"]["title"] == {
        "type": "VARCHAR", "size": "128", "unsigned": False, "null": False
    }  # fmt: skip
    assert OFFICIAL["film"]["rental_duration"]["type"] == "TINYINT"
    assert OFFICIAL["payment"]["last_update"]["null"] is True


def test_every_official_column_has_a_field():
    for model in SAKILA_MODELS:
        ours = {f.column for f in model._meta.concrete_fields if f.column}
        assert ours == set(OFFICIAL[model._meta.db_table]), model._meta.db_table


def refused(field: models.Field, value) -> bool:
    try:
        field.clean(value, None)
    except ValidationError:
        return True
    return False


@pytest.mark.django_db  # on MySQL an id's range is read from the database's own column types
@pytest.mark.parametrize(("model", "field"), FIELDS)
def test_field_holds_what_the_official_column_holds(model, field):
    column = OFFICIAL[model._meta.db_table][field.column]
    kind, size = column["type"], column["size"]
    assert field.null == column["null"], "nullability"
    is_id = field.primary_key or field.is_relation or field.column == "film_id"
    if is_id:
        # Ids: INT in our migrations, at least the official range.
        low, high, _ = limits.id_range(field)
        official = f"{kind.lower()}{' unsigned' if column['unsigned'] else ''}"
        assert high >= limits.INTEGER_RANGES[official][1]
        return
    if kind in ("VARCHAR", "CHAR"):
        assert field.max_length == int(size)
        assert not refused(field, "x" * int(size))
        assert refused(field, "x" * (int(size) + 1))
    elif kind == "TEXT":
        assert not refused(field, "é" * (limits.TEXT_MAX_BYTES // 2))
        assert refused(field, "é" * (limits.TEXT_MAX_BYTES // 2 + 1))  # 2 bytes each
    elif kind == "BLOB":
        assert field.max_length == limits.TEXT_MAX_BYTES
    elif kind in ("TINYINT", "SMALLINT", "MEDIUMINT", "INT") and kind != "BOOLEAN":
        low, high = limits.INTEGER_RANGES[
            f"{kind.lower()}{' unsigned' if column['unsigned'] else ''}"
        ]
        assert not refused(field, high) and not refused(field, low)
        assert refused(field, high + 1) and refused(field, low - 1)
    elif kind == "DECIMAL":
        digits, places = (int(n) for n in size.split(","))
        assert (field.max_digits, field.decimal_places) == (digits, places)
        assert refused(field, Decimal(10) ** (digits - places))
    elif kind == "YEAR":
        assert isinstance(field, YearField)
        assert not refused(field, 1901) and not refused(field, 2155)
        assert refused(field, 1900) and refused(field, 2156)
    elif kind == "ENUM":
        assert [value for value, _ in field.choices] == re.findall(r"'([^']*)'", size)
    elif kind == "SET":
        assert isinstance(field, CommaSeparatedSetField)
        assert list(field.options) == re.findall(r"'([^']*)'", size)
    elif kind == "BOOLEAN":
        assert isinstance(field, models.BooleanField)
    elif kind in ("DATETIME", "TIMESTAMP"):
        assert isinstance(field, models.DateTimeField)
    else:  # a type this test does not know yet
        pytest.fail(f"official type {kind} not checked")


def test_a_payment_is_never_negative():
    field = Payment._meta.get_field("amount")
    assert refused(field, Decimal("-0.01"))
    assert not refused(field, Decimal("0.00"))


def test_film_text_title_stays_wider_than_film_title():
    assert Film._meta.get_field("title").max_length == 128
