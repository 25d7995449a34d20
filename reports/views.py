"""Report pages (/reports/) and the SQL console (/lake/sql/), for managers.

Reports read the lake, never the rental database: the registry's reports
(``reports.registry``) and, for the dashboard's headline figures, one query of
our own (``reports/sql/dashboard.sql``). Filters live in the URL, so a page,
its CSV export and a bookmark show the same rows. Charts are SVG drawn by
the templates from coordinates computed here (no JavaScript).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from lake import selectors
from lake.models import PipelineRun
from lake.query import QueryError, get_query_engine
from lake.query.duckdb import ERROR_NO_DATA
from lake.views import VIEW_RUNS
from reports.export import HEADER_FILTERS, HEADER_RUN, HEADER_TITLE, csv_response
from reports.formatting import cell_text, column_title, is_number, is_share
from reports.registry import (
    DASHBOARD_SQL,
    PERIOD,
    REPORTS,
    Chart,
    Report,
    ReportNotFound,
    ReportResult,
    report_get,
    report_params_clean,
    report_run,
    report_run_get,
    report_store_list,
)

NO_PERMISSION = "Reports are for managers."
TIME_TRAVEL_RUNS = 50  # the latest succeeded runs offered as "as of"
# The dashboard's period filters: the reports' own, validated the same way.
DASHBOARD = Report(
    "dashboard", "Dashboard", "Headline figures.", Chart("line", "month", ()), PERIOD
)
DASHBOARD_TREND = "sales_by_month"
DASHBOARD_STORES = "sales_by_store"


def reports_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login (else the login page) and ``lake.view_pipelinerun`` (else 403)."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.has_perm(VIEW_RUNS):
            raise PermissionDenied(NO_PERMISSION)
        return view(request, *args, **kwargs)

    return wrapper


# --- Filters ---------------------------------------------------------------------------------


@dataclass
class FilterField:
    name: str
    label: str
    kind: str  # "date", "store", "int" or "run"
    value: str
    errors: list[str] = field(default_factory=list)
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, label) of a select
    minimum: int | None = None
    maximum: int | None = None


@dataclass
class Filters:
    """What the URL asks for, cleaned; the form's fields with their errors."""

    fields: list[FilterField]
    params: dict  # the cleaned report parameters ({} when there are errors)
    as_of_run: PipelineRun | None
    stores: dict[int, str]
    errors: dict[str, list[str]]

    @property
    def description(self) -> str:
        """The filters in words, for the page and the CSV's notes."""
        params = self.params
        start, end = params.get("start"), params.get("end")
        if start and end:
            period = f"rentals from {start} to {end}"
        elif start or end:
            period = f"rentals from {start}" if start else f"rentals up to {end}"
        else:
            period = "all rentals"
        parts = [period] if "start" in params or "end" in params else []
        if "store" in params:
            store = params["store"]
            name = self.stores.get(store, "?")
            parts.append(f"store {store} ({name})" if store else "all stores")
        parts += [
            f"{param} {value}"
            for param, value in params.items()
            if param not in ("start", "end", "store") and value is not None
        ]
        return ", ".join(parts)

    @property
    def slug(self) -> str:
        """The filters in a file name."""
        params = self.params
        parts = [
            f"{params.get('start') or 'first'}_to_{params.get('end') or 'last'}"
            if "start" in params
            else "",
            f"store-{params['store']}" if params.get("store") else "",
            f"top-{params['top']}" if params.get("top") else "",
        ]
        return "_".join(part for part in parts if part)


def time_travel_runs() -> list[PipelineRun]:
    """Succeeded runs with snapshots, newest first: what a report can be shown as of."""
    runs = selectors.pipeline_run_list().filter(status=PipelineRun.Status.SUCCEEDED)
    return list(runs.exclude(snapshots={})[:TIME_TRAVEL_RUNS])


def _store_names(snapshots: dict) -> dict[int, str]:
    """The lake's stores at ``snapshots``: id -> "city, country" (none if unreadable)."""
    try:
        return report_store_list(snapshots)
    except QueryError:
        return {}


def filters_clean(report: Report, raw, *, time_travel: bool = True) -> Filters:
    """The report's parameters and the run to read, from the query string."""
    errors: dict[str, list[str]] = {}
    runs = time_travel_runs() if time_travel else []
    as_of_run = None
    run_value = (raw.get("as_of_run") or "").strip()
    if run_value and time_travel:
        try:
            as_of_run = report_run_get(run_value)
        except ValidationError as error:
            errors.update(error.message_dict)
    try:
        params = report_params_clean(report, raw)
    except ValidationError as error:
        errors.update(error.message_dict)
        params = {}
    published = runs[0] if runs else selectors.published_run()
    snapshots = (as_of_run or published).snapshots if (as_of_run or published) else {}
    stores = _store_names(snapshots) if any(p.kind == "store" for p in report.params) else {}

    fields = []
    for param in report.params:
        value = raw.get(param.name)
        if value is None:
            value = "" if param.default is None else str(param.default)
        options = [(str(pk), f"{pk}: {name}") for pk, name in stores.items()]
        fields.append(
            FilterField(
                name=param.name,
                label=param.label,
                kind=param.kind,
                value=value.strip(),
                errors=errors.get(param.name, []),
                options=options if param.kind == "store" else [],
                minimum=param.minimum,
                maximum=param.maximum,
            )
        )
    if time_travel:
        if as_of_run is not None and as_of_run not in runs:
            runs.append(as_of_run)  # older than those offered, asked for by its id
        options = [(str(run.pk), f"Run {run.pk}, {run.finished_at:%Y-%m-%d %H:%M}") for run in runs]
        fields.append(
            FilterField(
                "as_of_run", "As of", "run", run_value, errors.get("as_of_run", []), options
            )
        )
    return Filters(fields, {} if errors else params, as_of_run, stores, errors)


# --- Tables and charts --------------------------------------------------------------------


def table_rows(columns: list[str], rows: list[dict]) -> list[list[tuple[str, bool]]]:
    """Each cell as (text, is a number) for the page's table."""
    return [[(cell_text(row[c], c), is_number(row[c])) for c in columns] for row in rows]


@dataclass(frozen=True)
class Mark:
    """A bar, a point or a pie slice, in SVG pixels."""

    label: str  # the x value
    value: str  # the y value, formatted
    x: float = 0
    y: float = 0
    width: float = 0
    height: float = 0
    path: str = ""  # a pie slice
    colour: int = 0  # palette index
    share: float = 0  # a pie slice: percent of the total


@dataclass(frozen=True)
class Tick:
    position: float  # y of a horizontal grid line, x of a vertical one
    label: str


@dataclass
class Picture:
    """One chart of one value column: coordinates computed here, drawn by _chart.html."""

    kind: str  # "bar" (horizontal bars), "line" or "pie"
    title: str
    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    marks: list[Mark]
    ticks: list[Tick] = field(default_factory=list)
    x_labels: list[Tick] = field(default_factory=list)
    points: str = ""  # the line's polyline
    note: str = ""  # e.g. that it draws only the first rows

    @property
    def label_x(self) -> float:
        return self.left - 8


PALETTE = 8
BAR_ROW = 26


def chart_pictures(
    chart: Chart, columns: list[str], rows: list[dict], *, width: int = 1000, small: bool = False
) -> list[Picture]:
    """One picture per value column of the report's chart (they have different units)."""
    if not rows or chart.x not in columns:
        return []
    note = ""
    if chart.limit is not None and len(rows) > chart.limit:
        note = f"The first {chart.limit} of {len(rows):,} rows; the table lists them all."
        rows = rows[: chart.limit]
    labels = [cell_text(row[chart.x]) for row in rows]
    pictures = []
    for y in chart.y:
        if y not in columns:
            continue
        percent = is_share(y)  # axes in percent, like the cells
        values = [float(row[y] or 0) * (100 if percent else 1) for row in rows]
        texts = [cell_text(row[y], y) for row in rows]
        title = column_title(y)
        unit = "%" if percent else ""
        if chart.kind == "line":
            pictures.append(_line(title, labels, values, texts, width, small, unit))
        elif chart.kind == "pie" and all(value >= 0 for value in values) and sum(values) > 0:
            pictures.append(_pie(title, labels, values, texts, width))
            break  # a pie shows one column
        else:
            pictures.append(_bars(title, labels, values, texts, width, small, unit))
    for picture in pictures:
        picture.note = note
    return pictures


def _value_ticks(largest: float) -> tuple[float, list[float]]:
    """An axis maximum at or above ``largest`` and round ticks (1, 2 or 5 x 10**n apart);
    like the run-duration chart's axis, but for fractions too (a late share of 0.15)."""
    if largest <= 0:
        return 1.0, [0.0, 1.0]
    raw = largest / 4
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    count = math.ceil(largest / step - 1e-9)
    return count * step, [step * index for index in range(count + 1)]


def _tick_label(value: float, unit: str = "") -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M{unit}"
    if value >= 10_000:
        return f"{value / 1000:g}k{unit}"
    return f"{value:,g}{unit}"


def _bars(title, labels, values, texts, width, small, unit="") -> Picture:
    """Horizontal bars: category labels read on the left, however long."""
    longest = max(len(label) for label in labels)
    left = min(max(longest * 7.2 + 16, 60), width * 0.4)
    right = width - (70 if small else 90)
    top, row = 24, (20 if small else BAR_ROW)
    bottom = top + row * len(labels)
    axis_max, steps = _value_ticks(max(max(values), 0))
    scale = (right - left) / axis_max
    marks = [
        Mark(
            label=label,
            value=text,
            x=round(left, 1),
            y=round(top + index * row + row * 0.15, 1),
            width=round(max(value, 0) * scale, 1),
            height=round(row * 0.7, 1),
            colour=index % PALETTE,
        )
        for index, (label, value, text) in enumerate(zip(labels, values, texts, strict=True))
    ]
    ticks = [Tick(round(left + step * scale, 1), _tick_label(step, unit)) for step in steps]
    return Picture("bar", title, width, int(bottom + 8), left, top, right, bottom, marks, ticks)


def _line(title, labels, values, texts, width, small, unit="") -> Picture:
    height = 200 if small else 260
    left, right, top, bottom = 64, width - 36, 20, height - 30
    axis_max, steps = _value_ticks(max(max(values), 0))
    slot = (right - left) / max(len(values) - 1, 1)
    marks = []
    for index, (label, value, text) in enumerate(zip(labels, values, texts, strict=True)):
        x = left + slot * index if len(values) > 1 else (left + right) / 2
        y = bottom - (bottom - top) * max(value, 0) / axis_max
        marks.append(Mark(label=label, value=text, x=round(x, 1), y=round(y, 1)))
    every = max(1, math.ceil(len(marks) / max((right - left) // 70, 1)))
    x_labels = [
        Tick(mark.x, mark.label)
        for index, mark in enumerate(marks)
        if (len(marks) - 1 - index) % every == 0
    ]
    ticks = [
        Tick(round(bottom - (bottom - top) * step / axis_max, 1), _tick_label(step, unit))
        for step in steps
    ]
    points = " ".join(f"{mark.x},{mark.y}" for mark in marks)
    return Picture(
        "line", title, width, height, left, top, right, bottom, marks, ticks, x_labels, points
    )


def _pie(title, labels, values, texts, width) -> Picture:
    size = 240
    radius, cx, cy = size / 2 - 10, size / 2, size / 2
    total = sum(values)
    marks, angle = [], -math.pi / 2
    for index, (label, value, text) in enumerate(zip(labels, values, texts, strict=True)):
        sweep = 2 * math.pi * value / total
        if value >= total:  # one slice: a whole circle cannot be one arc
            path = (
                f"M {cx - radius} {cy} a {radius} {radius} 0 1 0 {2 * radius} 0 "
                f"a {radius} {radius} 0 1 0 {-2 * radius} 0 Z"
            )
        else:
            x1, y1 = cx + radius * math.cos(angle), cy + radius * math.sin(angle)
            x2, y2 = cx + radius * math.cos(angle + sweep), cy + radius * math.sin(angle + sweep)
            large = 1 if sweep > math.pi else 0
            path = (
                f"M {cx} {cy} L {x1:.2f} {y1:.2f} "
                f"A {radius} {radius} 0 {large} 1 {x2:.2f} {y2:.2f} Z"
            )
        marks.append(
            Mark(
                label=label,
                value=text,
                path=path,
                colour=index % PALETTE,
                share=round(100 * value / total, 1),
                x=size + 24,
                y=20 + index * 22,
            )
        )
        angle += sweep
    height = max(size, 20 + 22 * len(marks))
    return Picture("pie", title, min(width, 640), int(height), 0, 0, size, size, marks)


# --- Pages ---------------------------------------------------------------------------------


def _report_or_404(name: str) -> Report:
    try:
        return report_get(name)
    except ReportNotFound as error:
        raise Http404(str(error)) from None


def _base_context(request: HttpRequest) -> dict:
    return {"section": "reports", "reports": list(REPORTS.values())}


def _no_data(request: HttpRequest, context: dict) -> HttpResponse:
    context["no_data"] = True
    return render(request, context["template"], context)


def _run_params(report: Report, params: dict) -> dict:
    """The period filters as a report of the registry takes them (it may have more)."""
    return {param.name: params.get(param.name, param.default) for param in report.params}


@reports_view
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Headline figures for the chosen period and store, small charts, every report."""
    filters = filters_clean(DASHBOARD, request.GET, time_travel=False)
    published = selectors.published_run()
    context = _base_context(request) | {
        "template": "reports/dashboard.html",
        "filters": filters,
        "published": published,
    }
    if published is None:
        return _no_data(request, context)
    if filters.errors:
        return render(request, context["template"], context, status=400)
    params = filters.params
    try:
        figures = (
            get_query_engine(published.snapshots)
            .execute(
                DASHBOARD_SQL.read_text(),
                {"start": params["start"], "end": params["end"], "store": params["store"]},
            )
            .to_pylist()[0]
        )
    except QueryError as error:
        if str(error) == ERROR_NO_DATA:
            return _no_data(request, context)
        context["error"] = str(error)
        return render(request, context["template"], context, status=409)
    charts = []
    for name in (DASHBOARD_TREND, DASHBOARD_STORES):
        report = REPORTS[name]
        try:
            result = report_run(report, _run_params(report, params))
        except QueryError:
            continue
        y = "revenue" if "revenue" in report.chart.y else report.chart.y[0]
        chart = Chart(report.chart.kind, report.chart.x, (y,))
        pictures = chart_pictures(chart, result.columns, result.rows, width=520, small=True)
        charts.append((report, pictures[0] if pictures else None))
    context |= {"figures": figures, "charts": charts, "query": request.GET.urlencode()}
    return render(request, context["template"], context)


@reports_view
@require_http_methods(["GET", "POST"])
def report_detail(request: HttpRequest, name: str) -> HttpResponse:
    """A report with its filters, chart, table, as-of run, cache age and SQL.

    POST recomputes it (the refresh button) and comes back to the same URL.
    """
    report = _report_or_404(name)
    filters = filters_clean(report, request.GET)
    context = _base_context(request) | {
        "template": "reports/report.html",
        "report": report,
        "filters": filters,
        "published": selectors.published_run(),
    }
    if context["published"] is None:
        return _no_data(request, context)
    if filters.errors:
        return render(request, context["template"], context, status=400)
    refresh = request.method == "POST"
    try:
        result = report_run(report, filters.params, as_of_run=filters.as_of_run, refresh=refresh)
    except QueryError as error:
        if str(error) == ERROR_NO_DATA:
            return _no_data(request, context)
        context["error"] = str(error)
        return render(request, context["template"], context, status=409)
    if refresh:
        url = reverse("reports:report", args=[report.name])
        return redirect(f"{url}?{request.GET.urlencode()}" if request.GET else url)
    context |= {
        "result": result,
        "as_of": _as_of_run(result, filters),
        "travelled": result.run_id != context["published"].pk,
        "table": table_rows(result.columns, result.rows),
        "headers": [
            (column_title(c), c, bool(result.rows) and is_number(result.rows[0][c]))
            for c in result.columns
        ],
        "pictures": chart_pictures(report.chart, result.columns, result.rows),
        "meta": {key: value for key, value in result.meta.items() if key != "snapshots"},
        "engine": (engine := get_query_engine(result.meta["snapshots"])),
        "sql_as_sent": engine.sql_as_sent(report.sql, result.params),
        "query": request.GET.urlencode(),
        "refresh_url": request.get_full_path(),
    }
    return render(request, context["template"], context)


def _as_of_run(result: ReportResult, filters: Filters) -> PipelineRun | None:
    if filters.as_of_run is not None:
        return filters.as_of_run
    return PipelineRun.objects.filter(pk=result.run_id).first()


@reports_view
@require_GET
def report_csv(request: HttpRequest, name: str) -> HttpResponse:
    """The rows and columns the report page shows: a header row, then the rows; the
    filters and run are in the file name and the X-Report-* headers."""
    report = _report_or_404(name)
    filters = filters_clean(report, request.GET)
    if filters.errors:
        lines = [f"{key}: {' '.join(messages)}" for key, messages in filters.errors.items()]
        return HttpResponse("\n".join(lines), status=400, content_type="text/plain")
    try:
        result = report_run(report, filters.params, as_of_run=filters.as_of_run)
    except QueryError as error:
        return HttpResponse(str(error), status=409, content_type="text/plain")
    run = _as_of_run(result, filters)
    finished = f", finished {run.finished_at:%Y-%m-%d %H:%M:%S}" if run and run.finished_at else ""
    parts = (report.name, filters.slug, f"run-{result.run_id}")
    headers = {
        HEADER_TITLE: f"{report.title} ({report.name})",
        HEADER_FILTERS: filters.description or "none",
        HEADER_RUN: f"{result.run_id}{finished}",
    }
    rows = ([row[c] for c in result.columns] for row in result.rows)
    return csv_response("_".join(part for part in parts if part), result.columns, rows, headers)
