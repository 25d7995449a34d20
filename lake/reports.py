"""The report registry: each report is a name, a title, one SQL file of
``lake/sql/reports/``, typed parameters and a chart.

Reports read the lake (the marts), never the rental database. The SQL binds
its parameters by name (``$start``, ``$end``, ``$store``, ``$top``); they are
never pasted into it. Results are cached per (report, parameters, snapshot),
so a new pipeline run invalidates them by itself.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from django.core.exceptions import ValidationError

SQL_DIR = Path(__file__).resolve().parent / "sql" / "reports"


@dataclass(frozen=True)
class Param:
    """A report parameter. ``kind``: "date", "store" (a store id) or "int"."""

    name: str
    kind: str
    label: str
    default: object = None
    minimum: int | None = None
    maximum: int | None = None


# The parameters most reports take: a date range on the rental date and a store.
START = Param("start", "date", "From (rental date)")
END = Param("end", "date", "To (rental date, inclusive)")
STORE = Param("store", "store", "Store")
TOP = Param("top", "int", "How many", default=10, minimum=1, maximum=100)
PERIOD = (START, END, STORE)


@dataclass(frozen=True)
class Chart:
    """How a report is drawn: ``kind`` "bar", "line" or "pie"; ``x`` the label
    column, ``y`` the value columns."""

    kind: str
    x: str
    y: tuple[str, ...]


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    description: str
    chart: Chart
    params: tuple[Param, ...] = PERIOD

    @property
    def sql(self) -> str:
        return (SQL_DIR / f"{self.name}.sql").read_text()


@dataclass
class ReportResult:
    report: Report
    params: dict  # the cleaned parameters, None where not given
    columns: list[str]
    rows: list[dict]
    run_id: int  # the pipeline run whose snapshots were read
    as_of: datetime  # when that run published them
    cached_at: datetime  # when the rows were computed
    from_cache: bool
    meta: dict = field(default_factory=dict)  # backend figures (Athena: bytes scanned, cost)


REPORTS: dict[str, Report] = {
    report.name: report
    for report in (
        Report(
            "sales_by_store",
            "Sales by store",
            "Revenue per store (the copy's store), with its city, country and manager: "
            "the figures of Sakila's sales_by_store view.",
            Chart("bar", x="store", y=("total_sales",)),
        ),
    )
}


class ReportNotFound(Exception):
    pass


ERROR_UNKNOWN_REPORT = "There is no report called {name!r}."
ERROR_BAD_DATE = "Enter a date as YYYY-MM-DD, not {value!r}."
ERROR_END_BEFORE_START = "The end date {end} is before the start date {start}."


def report_get(name: str) -> Report:
    try:
        return REPORTS[name]
    except KeyError:
        raise ReportNotFound(ERROR_UNKNOWN_REPORT.format(name=name)) from None


def report_params_clean(report: Report, raw: dict[str, str]) -> dict:
    """Typed parameters from strings (a query string, a command line).

    Raises ``ValidationError`` keyed by parameter name. Unknown names are
    ignored; missing ones take their default (None: no filter).
    """
    cleaned: dict = {}
    errors: dict[str, str] = {}
    for param in report.params:
        value = (raw.get(param.name) or "").strip()
        if not value:
            cleaned[param.name] = param.default
            continue
        if param.kind == "date":
            try:
                cleaned[param.name] = date.fromisoformat(value)
            except ValueError:
                errors[param.name] = ERROR_BAD_DATE.format(value=value)
        else:
            raise NotImplementedError(param.kind)  # store and int: see the issue
    start, end = cleaned.get("start"), cleaned.get("end")
    if start and end and end < start:
        errors["end"] = ERROR_END_BEFORE_START.format(start=start, end=end)
    if errors:
        raise ValidationError(errors)
    return cleaned


def report_run(report: Report, params: dict, *, as_of_run=None, refresh: bool = False):
    """The report's rows at the published snapshots (or ``as_of_run``'s), cached."""
    raise NotImplementedError
