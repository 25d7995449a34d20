"""Load a Sakila database from CSV files (the format of shared/sakila/README.md).

One file per table, named ``<table>.csv``, with a header naming every column
of the table. ``\\N`` is NULL, timestamps are ``YYYY-MM-DD HH:MM:SS``.

Every value is parsed and every reference checked before it is written, and
the whole load is one transaction: bad input raises ``SakilaLoadError``
naming file, line and column, and leaves the database as it was.
"""

import csv
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction

from rentals import bulk, limits
from rentals.fields import CommaSeparatedSetField
from rentals.models import SAKILA_MODELS

NULL = "\\N"

ERROR_MISSING_DIR = "{path} is not a directory"
ERROR_MISSING_FILE = "{path}: file is missing"


class SakilaLoadError(Exception):
    """Bad input: the message names the file, line and column at fault."""


@dataclass
class LoadReport:
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def load_sakila(directory: Path, *, replace: bool = False) -> LoadReport:
    """Load all sixteen tables from ``directory`` in one transaction."""
    directory = Path(directory)
    if not directory.is_dir():
        raise SakilaLoadError(ERROR_MISSING_DIR.format(path=directory))
    for model in SAKILA_MODELS:
        path = csv_path(directory, model)
        if not path.is_file():
            raise SakilaLoadError(ERROR_MISSING_FILE.format(path=path))

    report = LoadReport()
    with transaction.atomic(), bulk.foreign_key_checks_deferred():
        bulk.empty_sakila_tables(replace=replace)
        keys = KeyRegistry()
        for model in SAKILA_MODELS:
            table = TableReader(csv_path(directory, model), model, keys)
            table.read_header()
            report.rows[model._meta.db_table] = bulk.insert_rows(model, table.columns, table.rows())
        keys.check_deferred_references()
        bulk.reset_sequences()
    bulk.refresh_statistics()
    return report


def csv_path(directory: Path, model: type[models.Model]) -> Path:
    return directory / f"{model._meta.db_table}.csv"


class KeyRegistry:
    """Keys loaded so far per table (tuples), to check references before writing.

    A reference to a table that is loaded later (staff.store_id: the
    staff/store cycle) is remembered and checked once everything is read.
    """

    def __init__(self) -> None:
        self.loaded: dict[type[models.Model], set[tuple]] = defaultdict(set)
        self.done: set[type[models.Model]] = set()
        self.deferred: list[tuple[type[models.Model], Any, str]] = []

    def check_reference(self, target: type[models.Model], value: Any, where) -> None:
        """``where()`` names the place, built only when there is something to say."""
        if target not in self.done:
            self.deferred.append((target, value, where()))
        elif (value,) not in self.loaded[target]:
            raise SakilaLoadError(dangling_reference(where(), target, value))

    def check_deferred_references(self) -> None:
        for target, value, where in self.deferred:
            if (value,) not in self.loaded[target]:
                raise SakilaLoadError(dangling_reference(where, target, value))


def dangling_reference(where: str, target: type[models.Model], value: Any) -> str:
    table = target._meta.db_table
    return f"{where}: no {table} row has {target._meta.pk.column} {value}"


class TableReader:
    """Parses one CSV file into rows of database values, checking as it goes."""

    def __init__(self, path: Path, model: type[models.Model], keys: KeyRegistry) -> None:
        self.path = path
        self.model = model
        self.keys = keys
        self.fields = {f.column: f for f in model._meta.concrete_fields if f.column}
        self.columns: list[str] = []

    def read_header(self) -> None:
        _, header = next(self.records(), (1, None))
        self.columns = self.check_header(header)

    def rows(self) -> Iterator[tuple]:
        records = self.records()
        next(records)
        yield from self.parse(records, self.columns)
        self.keys.done.add(self.model)

    def records(self) -> Iterator[tuple[int, list[str]]]:
        """(line number, fields) of each CSV record; CSV and encoding faults are load errors."""
        # utf-8-sig: a file saved with a byte order mark (Excel) reads the same.
        with self.path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, strict=True)
            try:
                for record in reader:
                    yield reader.line_num, record
            except csv.Error as error:
                raise SakilaLoadError(
                    f"{self.path.name} line {reader.line_num + 1}: not valid CSV ({error})"
                ) from None
            except UnicodeDecodeError as error:
                raise SakilaLoadError(f"{self.path.name}: not UTF-8 text ({error})") from None

    def check_header(self, header: list[str] | None) -> list[str]:
        if not header:
            raise SakilaLoadError(f"{self.path.name} line 1: no header row (the file is empty)")
        for position, name in enumerate(header, start=1):
            if name not in self.fields:
                raise SakilaLoadError(
                    f"{self.path.name} line 1, column {position}: unknown column {name!r} "
                    f"(table {self.model._meta.db_table} has {', '.join(self.fields)})"
                )
        if len(set(header)) != len(header):
            duplicate = next(name for name in header if header.count(name) > 1)
            raise SakilaLoadError(f"{self.path.name} line 1: column {duplicate!r} appears twice")
        missing = [name for name in self.fields if name not in header]
        if missing:
            raise SakilaLoadError(
                f"{self.path.name} line 1: missing column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)}"
            )
        return header

    def parse(self, records: Iterator[tuple[int, list[str]]], header: list[str]) -> Iterator[tuple]:
        fields = [self.fields[name] for name in header]
        parsers = [value_parser(f) for f in fields]
        references = [
            (position, f.related_model) for position, f in enumerate(fields) if f.is_relation
        ]
        # The primary key first: its set of seen keys is what references check against.
        unique_keys = self.unique_keys(header)
        seen = [self.keys.loaded[self.model]] + [set() for _ in unique_keys[1:]]
        width = len(header)
        for line, raw in records:

            def where(position: int | None = None, line: int = line) -> str:
                place = f"{self.path.name} line {line}"
                return place if position is None else f"{place}, column {header[position]}"

            if len(raw) != width:
                raise SakilaLoadError(f"{where()}: {len(raw)} fields, the header has {width}")
            values = []
            for position, text in enumerate(raw):
                try:
                    values.append(parsers[position](text))
                except ValueError as error:
                    raise SakilaLoadError(f"{where(position)}: {error}") from None
            for position, target in references:
                if values[position] is not None:
                    self.keys.check_reference(target, values[position], lambda p=position: where(p))
            for (names, positions), keys_seen in zip(unique_keys, seen, strict=True):
                key = tuple(values[p] for p in positions)
                if None in key:
                    continue
                if key in keys_seen:
                    shown = ", ".join(
                        f"{n}={values[p]}" for n, p in zip(names, positions, strict=True)
                    )
                    raise SakilaLoadError(f"{where(positions[0])}: duplicate {shown}")
                keys_seen.add(key)
            yield tuple(values)

    def unique_keys(self, header: list[str]) -> list[tuple[list[str], list[int]]]:
        """Column positions of the primary key and every unique key."""
        meta = self.model._meta
        keys = [[f.column for f in meta.pk_fields]]
        keys += [[f.column] for f in meta.concrete_fields if f.unique and not f.primary_key]
        keys += [
            [meta.get_field(name).column for name in constraint.fields]
            for constraint in meta.total_unique_constraints
        ]
        return [(names, [header.index(name) for name in names]) for names in keys]


def value_parser(model_field: models.Field) -> Callable[[str], Any]:
    """A function from CSV text to the database value of ``model_field``.

    Values are checked against what the column holds: the model's validators
    (the official Sakila widths and ranges), and for ids the range of the
    id column in the database being loaded (INT, or MySQL's narrower ids).
    """
    target = model_field.target_field if model_field.is_relation else model_field
    parse = _type_parser(target, model_field)
    is_id = model_field.primary_key or model_field.is_relation
    if is_id and isinstance(target, (models.AutoField, models.IntegerField)):
        check = _id_range_check(model_field)
    else:
        check = _validators_check(model_field)

    def parse_value(text: str) -> Any:
        if text == NULL:
            if not model_field.null:
                raise ValueError("NULL (\\N) in a column that cannot be NULL")
            return None
        value = parse(text)
        check(value)
        return value

    return parse_value


def _id_range_check(model_field: models.Field) -> Callable[[Any], None]:
    lowest, highest, kind = limits.id_range(model_field)
    lowest = max(lowest, 1)

    def check(value: int) -> None:
        if not lowest <= value <= highest:
            raise ValueError(
                limits.ID_OUT_OF_RANGE.format(
                    value=value,
                    table=model_field.model._meta.db_table,
                    column=model_field.column,
                    type=kind,
                    lowest=lowest,
                    highest=highest,
                )
            )

    return check


def _validators_check(model_field: models.Field) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        try:
            model_field.run_validators(value)
        except ValidationError as error:
            raise ValueError(" ".join(error.messages)) from None

    return check


def _type_parser(target: models.Field, model_field: models.Field) -> Callable[[str], Any]:
    if isinstance(target, models.BooleanField):
        return _parse_bool
    if isinstance(target, (models.AutoField, models.IntegerField)):
        positive = (models.PositiveIntegerField, models.PositiveSmallIntegerField)
        minimum = 1 if isinstance(target, models.AutoField) else None
        if isinstance(target, positive):
            minimum = 0
        return lambda text: _parse_int(text, minimum)
    if isinstance(target, models.DecimalField):
        return lambda text: _parse_decimal(text, target.max_digits, target.decimal_places)
    if isinstance(target, models.DateTimeField):
        return _parse_datetime
    if isinstance(target, models.DateField):
        return _parse_date
    if isinstance(target, models.BinaryField):
        return _parse_hex
    if isinstance(target, CommaSeparatedSetField):
        return lambda text: _parse_set(text, target)
    if isinstance(target, (models.CharField, models.TextField)):
        return lambda text: _parse_text(text, model_field)
    raise TypeError(f"no CSV parser for {type(target).__name__}")  # a new field type


def _parse_bool(text: str) -> bool:
    if text in ("1", "0"):
        return text == "1"
    raise ValueError(f"{text!r} is not a boolean (1 or 0)")


def _parse_int(text: str, minimum: int | None) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None
    if minimum is not None and value < minimum:
        raise ValueError(f"{value} is below {minimum}")
    return value


def _parse_decimal(text: str, max_digits: int, places: int) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a decimal number") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a decimal number")
    if value.as_tuple().exponent < -places:
        raise ValueError(f"{text!r} has more than {places} decimal places")
    if abs(value) >= Decimal(10) ** (max_digits - places):
        raise ValueError(f"{text!r} does not fit DECIMAL({max_digits},{places})")
    return value


def _parse_datetime(text: str) -> datetime:
    # A bare date is midnight (the real customer.csv has create_date as a date).
    for layout in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, layout)
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a timestamp (YYYY-MM-DD HH:MM:SS)")


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _parse_hex(text: str) -> bytes:
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise ValueError("binary data must be hexadecimal") from None


def _parse_set(text: str, target: CommaSeparatedSetField) -> str:
    try:
        return target.get_prep_value(text)  # the field's own rule, as MySQL's SET
    except ValidationError as error:
        raise ValueError(error.messages[0]) from None


def _parse_text(text: str, model_field: models.Field) -> str:
    if "\x00" in text:
        raise ValueError("contains a NUL byte (\\0), which text may not hold")
    max_length = getattr(model_field, "max_length", None)
    if max_length is not None and len(text) > max_length:
        raise ValueError(f"{len(text)} characters, at most {max_length} fit")
    if model_field.choices and text not in {choice for choice, _ in model_field.flatchoices}:
        allowed = ", ".join(choice for choice, _ in model_field.flatchoices)
        raise ValueError(f"{text!r} is not one of {allowed}")
    return text
