"""Arrow schemas of the staging tables, derived from the Sakila models.

Staging keeps every column of its source table with the source's names, but
those of EXCLUDED_COLUMNS; the types are the Iceberg-friendly form of the
model fields (money as decimals, never floats).
"""

import pyarrow as pa
from django.db import models

from rentals.models import SAKILA_MODELS, FilmText

# Every Sakila table but film_text (derived from film, and without last_update).
STAGED_MODELS: tuple[type[models.Model], ...] = tuple(m for m in SAKILA_MODELS if m is not FilmText)

# Tables every run reads whole and compares, which sees removed rows too. None
# since deletes are found by counting rows (stage.py): the link tables, which
# lose rows when links change, were read whole before that.
FULLY_EXTRACTED: frozenset[str] = frozenset()

# Big tables partitioned by month, so that a change rewrites one month's files.
STAGING_PARTITIONS = {"rental": "rental_date", "payment": "payment_date"}


def arrow_type(field: models.Field) -> pa.DataType:
    target = field.target_field if field.is_relation else field
    if isinstance(target, models.BooleanField):
        return pa.bool_()
    if isinstance(target, (models.AutoField, models.IntegerField)):
        return pa.int64() if target.primary_key or field.is_relation else pa.int32()
    if isinstance(target, models.DecimalField):
        return pa.decimal128(target.max_digits, target.decimal_places)
    if isinstance(target, models.DateTimeField):
        return pa.timestamp("us")
    if isinstance(target, models.DateField):
        return pa.date32()
    if isinstance(target, models.BinaryField):
        return pa.binary()
    return pa.string()


# Columns that never enter the lake (raw or staging), on any engine: secrets and
# personal data no report needs, readable there by every reader of the lake.
EXCLUDED_COLUMNS = {"staff": frozenset({"password", "picture"})}


def lake_fields(model: type[models.Model]) -> list[models.Field]:
    """The model's columns that the lake keeps, in source order."""
    excluded = EXCLUDED_COLUMNS.get(model._meta.db_table, frozenset())
    return [f for f in model._meta.concrete_fields if f.column and f.column not in excluded]


def staging_schema(model: type[models.Model]) -> pa.Schema:
    return pa.schema([pa.field(f.column, arrow_type(f)) for f in lake_fields(model)])


def primary_key(model: type[models.Model]) -> list[str]:
    return [field.column for field in model._meta.pk_fields]


def table_name(model: type[models.Model]) -> str:
    return model._meta.db_table
