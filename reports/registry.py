"""The report registry: each report is a name, a title, one SQL file of
``reports/sql/reports/``, typed parameters and a chart.

Reports read the lake (the marts), never the rental database. The SQL binds
its parameters by name (``$start``, ``$end``, ``$store``, ``$top``); they are
never pasted into it. Results are cached per (report, parameters, snapshot),
so a new pipeline run invalidates them by itself.
"""

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import timezone

from lake import selectors
from lake.models import PipelineRun
from lake.query import QueryError, get_query_engine
from lake.query.duckdb import ERROR_NO_DATA

SQL_DIR = Path(__file__).resolve().parent / "sql" / "reports"
STORE_NAMES_SQL = SQL_DIR.parent / "store_names.sql"
DASHBOARD_SQL = SQL_DIR.parent / "dashboard.sql"
LAST_DAY_SQL = SQL_DIR.parent / "last_day.sql"
CUSTOMER_SQL = SQL_DIR.parent / "customer.sql"


@dataclass(frozen=True)
class Param:
    """A report parameter. ``kind``: "date", "store" (a store id), "int" or "text"."""

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
FILM = Param("film", "int", "Film (id)", minimum=1)
CUSTOMER = Param("customer", "int", "Customer (id)", minimum=1)
CATEGORY = Param("category", "text", "Category")
ROWS = Param("rows", "int", "Rows at most", default=500, minimum=1, maximum=5000)


@dataclass(frozen=True)
class Chart:
    """How a report is drawn (by ECharts): ``kind`` "bar" (one bar per row, one
    chart per value column) or "time" (the value columns over a time axis of
    ``unit`` "month" or "day"); ``x`` the label column, ``y`` the value columns;
    ``limit`` the rows drawn at most (the first ones: a report of every customer
    lists them all but draws its top)."""

    kind: str
    x: str
    y: tuple[str, ...]
    limit: int | None = None
    unit: str = "month"


@dataclass(frozen=True)
class Drill:
    """A cell that opens what its row sums up (drill-through): the report ``to``
    (or "customer": the customer's page), with ``param`` set from the row's
    ``key`` column, or with its period (``period`` "month" or "day": the cell is
    that month or day) as the dates. The page's other filters go along."""

    column: str
    to: str
    key: str | None = None
    param: str | None = None
    period: str | None = None


# Drill-through targets shared by several reports.
TO_CUSTOMER = Drill("customer", "customer", key="customer_id")
TO_FILM_RENTALS = Drill("film", "rentals", key="film_id", param="film")


# Bars a chart of one row per customer or rental draws at most.
CHART_TOP = 20


@dataclass(frozen=True)
class Report:
    name: str
    title: str
    description: str
    chart: Chart | None
    params: tuple[Param, ...] = PERIOD
    drills: tuple[Drill, ...] = ()
    listed: bool = True  # in the reports menu (a detail list is reached by drilling)

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
            drills=(Drill("store", "sales_by_month", key="store_id", param="store"),),
        ),
        Report(
            "sales_by_film_category",
            "Sales by film category",
            "Revenue per film category: the figures of Sakila's sales_by_film_category view.",
            Chart("bar", x="category", y=("total_sales",)),
            drills=(Drill("category", "top_films", key="category", param="category"),),
        ),
        Report(
            "sales_by_month",
            "Sales by month",
            "Rentals and revenue per month of the rental date.",
            Chart("time", x="month", y=("revenue", "rentals")),
            drills=(Drill("month", "sales_by_day", period="month"),),
        ),
        Report(
            "sales_by_day",
            "Sales by day",
            "Rentals and revenue per day of the rental date, with the weekday and holiday; "
            "open a day for its rentals.",
            Chart("time", x="day", y=("revenue", "rentals"), unit="day"),
            drills=(Drill("day", "rentals", period="day"),),
        ),
        Report(
            "top_films",
            "Top films",
            "The films that brought the most revenue, with their number of rentals.",
            Chart("bar", x="title", y=("revenue",)),
            params=(*PERIOD, TOP, CATEGORY),
            drills=(Drill("title", "rentals", key="film_id", param="film"),),
        ),
        Report(
            "top_customers",
            "Top customers",
            "The customers who paid the most for their rentals, with their number of rentals.",
            Chart("bar", x="customer", y=("revenue",)),
            params=(*PERIOD, TOP),
            drills=(TO_CUSTOMER,),
        ),
        Report(
            "weekday_vs_weekend",
            "Weekdays and weekends",
            "Rentals and revenue on weekdays (Monday to Friday) and at weekends, and per day "
            "(days: the days of the period with rentals), so five days compare with two.",
            Chart("bar", x="day_type", y=("revenue_per_day", "rentals_per_day")),
        ),
        Report(
            "holiday_sales",
            "Holiday sales",
            "Rentals and revenue on each US federal holiday, and on the other days together "
            "(days: the days of the period with rentals).",
            Chart("bar", x="holiday", y=("revenue_per_day", "rentals_per_day")),
        ),
        Report(
            "rentals_by_weekday",
            "Rentals by day of the week",
            "Rentals and revenue per day of the week, Monday to Sunday.",
            Chart("bar", x="day_name", y=("rentals",)),
        ),
        Report(
            "late_returns_by_category",
            "Late returns by category",
            "Per film category: rentals returned, those returned after the film's rental "
            "duration, and their share.",
            Chart("bar", x="category", y=("late_share",)),
            drills=(Drill("category", "top_films", key="category", param="category"),),
        ),
        Report(
            "overdue_rentals",
            "Overdue rentals",
            "Rentals still out past their due date when the lake was last built, with the "
            "days late and the late fee accrued so far ($1.00 a day, capped at the film's "
            "replacement cost).",
            Chart("bar", x="film", y=("late_fee",), limit=CHART_TOP),
            params=(STORE,),
            drills=(TO_CUSTOMER, TO_FILM_RENTALS),
        ),
        Report(
            "receivables",
            "Receivables by store",
            "What the customers of each store (their home store) were charged (rental rates "
            "and late fees, accrued so far on rentals still out), what they paid, and what "
            "they owe: the sum of their balances at the desk, as of the run.",
            Chart("bar", x="store", y=("outstanding",)),
            params=(STORE,),
            drills=(Drill("store", "receivables_by_customer", key="store_id", param="store"),),
        ),
        Report(
            "receivables_by_customer",
            "Receivables by customer",
            "Each customer's charges, late fees, payments and outstanding balance (negative: "
            "in credit), as of the run: the balance the desk shows. Largest debts first.",
            Chart("bar", x="customer", y=("outstanding",), limit=CHART_TOP),
            params=(STORE,),
            drills=(TO_CUSTOMER,),
        ),
        Report(
            "rentals",
            "Rentals",
            "One row per rental in the lake, the latest first: what a day, a film, a store or "
            "a customer of the other reports sums up.",
            None,
            params=(*PERIOD, FILM, CUSTOMER, ROWS),
            drills=(TO_CUSTOMER, TO_FILM_RENTALS),
            listed=False,
        ),
        Report(
            "payments",
            "Payments",
            "One row per payment in the lake (payments on account included), the latest first; "
            "dates and store are the payment's.",
            None,
            params=(
                Param("start", "date", "From (payment date)"),
                Param("end", "date", "To (payment date, inclusive)"),
                Param("store", "store", "Store (the staff's)"),
                CUSTOMER,
                ROWS,
            ),
            drills=(TO_CUSTOMER,),
            listed=False,
        ),
    )
}


class ReportNotFound(Exception):
    pass


ERROR_UNKNOWN_REPORT = "There is no report called {name!r}."
ERROR_BAD_DATE = "Enter a date as YYYY-MM-DD, not {value!r}."
ERROR_END_BEFORE_START = "The end date {end} is before the start date {start}."
ERROR_UNKNOWN_STORE = "There is no store {value}."
ERROR_BAD_STORE = "Enter a store number, not {value!r}."
ERROR_BAD_INT = "Enter a whole number, not {value!r}."
ERROR_INT_RANGE = "Enter a number from {minimum} to {maximum}."
ERROR_TEXT_LENGTH = "Enter at most {maximum} characters."
TEXT_MAX_LENGTH = 100
ERROR_UNKNOWN_RUN = "There is no pipeline run {value}."
ERROR_RUN_NOT_READABLE = (
    "Run {run} cannot be read: only a succeeded run that published snapshots can ({status})."
)
ERROR_RUN_EXPIRED = (
    "Run {run} is older than the {days:g}-day retention window: maintenance removed its "
    "snapshots. Time travel reaches back to run {oldest}."
)

# Results live until evicted: their key names the snapshots, which never change.
CACHE_TIMEOUT = 7 * 24 * 3600
CACHE_PREFIX = "report"


def report_get(name: str) -> Report:
    try:
        return REPORTS[name]
    except KeyError:
        raise ReportNotFound(ERROR_UNKNOWN_REPORT.format(name=name)) from None


def report_params_clean(report: Report, raw: dict[str, str]) -> dict:
    """Typed parameters from strings (a query string, a command line).

    Raises ``ValidationError`` keyed by parameter name. Unknown names are
    ignored; missing ones take their default (None: no filter). A store must
    be one of the lake's stores (at the published snapshot).
    """
    cleaned: dict = {}
    errors: dict[str, str] = {}
    for param in report.params:
        value = str(raw.get(param.name) or "").strip()
        if not value:
            cleaned[param.name] = param.default
            continue
        try:
            cleaned[param.name] = _clean_value(param, value)
        except ValueError as error:
            errors[param.name] = str(error)
    start, end = cleaned.get("start"), cleaned.get("end")
    if start and end and end < start:
        errors["end"] = ERROR_END_BEFORE_START.format(start=start, end=end)
    if errors:
        raise ValidationError(errors)
    return cleaned


def _clean_value(param: Param, value: str):
    if param.kind == "date":
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(ERROR_BAD_DATE.format(value=value)) from None
    if param.kind == "store":
        try:
            store = int(value)
        except ValueError:
            raise ValueError(ERROR_BAD_STORE.format(value=value)) from None
        stores = report_store_list()
        if stores and store not in stores:  # no lake yet: running the report says so
            raise ValueError(ERROR_UNKNOWN_STORE.format(value=store))
        return store
    if param.kind == "int":
        try:
            number = int(value)
        except ValueError:
            raise ValueError(ERROR_BAD_INT.format(value=value)) from None
        low = param.minimum if param.minimum is not None else number
        high = param.maximum if param.maximum is not None else number
        if not low <= number <= high:
            raise ValueError(ERROR_INT_RANGE.format(minimum=low, maximum=high))
        return number
    if param.kind == "text":
        if len(value) > TEXT_MAX_LENGTH:
            raise ValueError(ERROR_TEXT_LENGTH.format(maximum=TEXT_MAX_LENGTH))
        return value
    raise NotImplementedError(param.kind)


def report_store_list(snapshots: dict[str, int] | None = None) -> dict[int, str]:
    """The stores of the lake at ``snapshots`` (the published ones by default):
    {store_id: "city, country"}; empty when the lake has no data. Cached per
    snapshot like the reports."""
    snapshots = selectors.published_snapshots() if snapshots is None else snapshots
    if "marts.dim_store" not in snapshots:
        return {}
    key = f"{CACHE_PREFIX}:stores:{snapshots['marts.dim_store']}"
    stores = cache.get(key)
    if stores is None:
        rows = get_query_engine({"marts.dim_store": snapshots["marts.dim_store"]}).execute(
            STORE_NAMES_SQL.read_text()
        )
        stores = {row["store_id"]: row["store"] for row in rows.to_pylist()}
        cache.set(key, stores, CACHE_TIMEOUT)
    return stores


def report_run_get(run_id) -> PipelineRun:
    """The run to read a report as of (time travel); ``ValidationError`` keyed
    ``as_of_run`` when there is no such run or it published nothing."""
    try:
        run = PipelineRun.objects.get(pk=int(run_id))
    except (TypeError, ValueError, PipelineRun.DoesNotExist):
        raise ValidationError({"as_of_run": ERROR_UNKNOWN_RUN.format(value=run_id)}) from None
    try:
        _check_readable(run)
    except QueryError as error:
        raise ValidationError({"as_of_run": str(error)}) from None
    return run


def _check_readable(run: PipelineRun) -> None:
    if run.snapshots_expired:
        oldest = selectors.oldest_readable_run()
        raise QueryError(
            ERROR_RUN_EXPIRED.format(
                run=run.pk, days=settings.LAKE_RETENTION_DAYS, oldest=oldest.pk if oldest else "?"
            )
        )
    if run.status != PipelineRun.Status.SUCCEEDED or not run.snapshots:
        status = run.get_status_display().lower()
        if run.status == PipelineRun.Status.SUCCEEDED:
            status = "it has no snapshots"
        raise QueryError(ERROR_RUN_NOT_READABLE.format(run=run.pk, status=status))


def report_cache_key(report: Report, params: dict, snapshots: dict[str, int]) -> str:
    """(report, cleaned parameters, snapshot ids), hashed: a new run means new keys."""
    identity = json.dumps(
        [report.name, params, sorted(snapshots.items())], default=str, sort_keys=True
    )
    return f"{CACHE_PREFIX}:{report.name}:{hashlib.sha256(identity.encode()).hexdigest()}"


def report_run(
    report: Report, params: dict, *, as_of_run: PipelineRun | None = None, refresh: bool = False
) -> ReportResult:
    """The report's rows at the published snapshots (or ``as_of_run``'s), cached.

    ``params`` are cleaned (``report_params_clean``); ``refresh`` recomputes and
    replaces the cached rows. Raises ``QueryError`` when the lake has no data,
    the run cannot be read, or the query fails.
    """
    run = as_of_run if as_of_run is not None else selectors.published_run()
    if run is None:
        raise QueryError(ERROR_NO_DATA)
    _check_readable(run)
    snapshots = dict(run.snapshots)
    bound = {param.name: params.get(param.name, param.default) for param in report.params}
    key = report_cache_key(report, bound, snapshots)
    cached = None if refresh else cache.get(key)
    if cached is None:
        engine = get_query_engine(snapshots)
        table = engine.execute(report.sql, bound)
        cached = {
            "columns": table.column_names,
            "rows": table.to_pylist(),
            "cached_at": timezone.now(),
            # The query's figures (Athena: bytes scanned, cost), shown with the rows.
            "statistics": dict(engine.last_statistics),
        }
        cache.set(key, cached, CACHE_TIMEOUT)
        from_cache = False
    else:
        from_cache = True
    return ReportResult(
        report=report,
        params=bound,
        columns=cached["columns"],
        rows=cached["rows"],
        run_id=run.pk,
        as_of=run.finished_at,
        cached_at=cached["cached_at"],
        from_cache=from_cache,
        meta={"snapshots": snapshots, **cached.get("statistics", {})},
    )
