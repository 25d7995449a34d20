"""Model fields for the column types of MySQL's Sakila schema that Django lacks.

Each field stores the same values on SQLite and MySQL; on MySQL it uses the
native type of the official schema where that type is at least as wide.
"""

from collections.abc import Iterable

from django import forms
from django.core import validators
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone


class LastUpdateField(models.DateTimeField):
    """Sakila's ``last_update``: set to now on every insert and every save.

    The database default covers rows inserted outside the ORM; QuerySet
    updates are covered by ``SakilaQuerySet.update``. The incremental ETL
    relies on this column, so it is indexed (see the models' Meta).
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("db_default", Now())
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def pre_save(self, model_instance, add):
        value = timezone.now()
        setattr(model_instance, self.attname, value)
        return value

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("editable", None)
        return name, path, args, kwargs


class FixedCharField(models.CharField):
    """CHAR(n), as ``language.name`` is in MySQL's schema."""

    def db_type(self, connection):
        return f"char({self.max_length})"


class YearField(models.PositiveSmallIntegerField):
    """MySQL's YEAR (1901-2155); a small integer elsewhere."""

    default_validators = [validators.MinValueValidator(1901), validators.MaxValueValidator(2155)]

    def db_type(self, connection):
        if connection.vendor == "mysql":
            return "year"
        return super().db_type(connection)


class CommaSeparatedSetField(models.CharField):
    """MySQL's SET: a subset of fixed options, stored as comma-separated text.

    In Python the value is a list of options in declaration order (or None).
    """

    def __init__(self, *args, options: Iterable[str] = (), **kwargs):
        self.options = tuple(options)
        kwargs.setdefault("max_length", len(",".join(self.options)))
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["options"] = list(self.options)
        return name, path, args, kwargs

    def _normalize(self, value) -> list[str] | None:
        if value is None:
            return None
        if isinstance(value, str):
            items = [item.strip() for item in value.split(",") if item.strip()]
        else:
            items = list(value)
        unknown = [item for item in items if item not in self.options]
        if unknown:
            raise ValidationError(
                "%(value)s not one of %(options)s",
                code="invalid_choice",
                params={
                    "value": ", ".join(map(repr, unknown)),
                    "options": ", ".join(self.options),
                },
            )
        return [option for option in self.options if option in items]

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        if isinstance(value, (set, frozenset)):  # mysqlclient may return a set for SET columns
            value = ",".join(value)
        return [item for item in value.split(",") if item]

    def to_python(self, value):
        return self._normalize(value)

    def get_prep_value(self, value):
        value = self._normalize(value)
        return None if value is None else ",".join(value)

    def value_to_string(self, obj):
        value = self.value_from_object(obj)
        return "" if value is None else ",".join(value)

    def validate(self, value, model_instance):
        self._normalize(value)
        if value is None and not self.null:
            raise ValidationError(self.error_messages["null"], code="null")

    def run_validators(self, value):
        # The joined text is what max_length limits, and it always fits.
        return None

    def formfield(self, **kwargs):
        defaults = {
            "form_class": forms.TypedMultipleChoiceField,
            "choices": [(option, option) for option in self.options],
            "widget": forms.CheckboxSelectMultiple,
            "required": not self.blank,
        }
        defaults.update(kwargs)
        defaults.pop("max_length", None)
        return models.Field.formfield(self, **defaults)
