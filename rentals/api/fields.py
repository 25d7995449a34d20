"""Input fields of the REST API that refuse what the database cannot take.

Ids are INT columns and SQLite raises OverflowError past 2**63, so an id is
checked for range before it reaches a query. Times are naive local times in
the business's TIME_ZONE, as Sakila stores them: a time with an offset is
converted to local time, and a year MySQL's DATETIME cannot hold is refused.
"""

from datetime import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework import serializers

from sakila_site.converters import MAX_ID

# Path ids: at most 10 digits, else the URL names nothing (404).
ID_REGEX = r"[0-9]{1,10}"
DATETIME_RANGE = "Enter a date and time between 1000-01-01 and 9999-12-31."


def local_datetime(value: datetime) -> datetime:
    """``value`` as a naive local time; ValueError if a DATETIME cannot hold it."""
    if timezone.is_aware(value):
        try:
            value = timezone.make_naive(value, timezone.get_default_timezone())
        except OverflowError:
            raise ValueError(DATETIME_RANGE) from None
    if value.year < 1000:
        raise ValueError(DATETIME_RANGE)
    return value


class LocalDateTimeField(serializers.DateTimeField):
    """A DRF date-time read as a naive local time (see ``local_datetime``)."""

    default_error_messages = {"range": DATETIME_RANGE}

    def enforce_timezone(self, value: datetime) -> datetime:
        # DRF would convert an offset to UTC (and may overflow doing it).
        try:
            return local_datetime(value)
        except ValueError:
            self.fail("range")


class LocalDateTimeFormField(forms.DateTimeField):
    """The same for django-filter's query parameters."""

    def to_python(self, value) -> datetime | None:
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return local_datetime(value)
        except ValueError as error:
            raise ValidationError(str(error), code="range") from None


class IdRelatedField(serializers.PrimaryKeyRelatedField):
    """A related row by id: a whole number from 1 to MAX_ID, then an existing row.

    The browsable API's form shows a number box, not a list of the first rows.
    """

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("pk_field", serializers.IntegerField(min_value=1, max_value=MAX_ID))
        kwargs.setdefault("style", {"base_template": "input.html", "input_type": "number"})
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        # DRF only converts through pk_field; its range validators run here.
        self.pk_field.run_validation(data)
        return super().to_internal_value(data)
