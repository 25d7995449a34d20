"""Report pages (/reports/), for managers: the dashboard, one page per report,
its CSV export, and a customer's page in the lake.

Reports read the lake, never the rental database: the registry's reports
(``reports.registry``) and, for the dashboard's headline figures and a
customer's account, queries of our own (``reports/sql/``). Filters and the
sort live in the URL, so a page, its CSV export and a bookmark show the same
rows. Charts are ECharts specs (``reports/charts.py``) drawn in the browser.
"""

from collections.abc import Callable
from datetime import timedelta
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from lake import selectors
from lake.models import PipelineRun
from lake.panel.views import VIEW_RUNS
from lake.query import QueryError, get_query_engine
from lake.query.duckdb import ERROR_NO_DATA
from reports.charts import report_charts
from reports.export import ReportFiltersInvalid, as_of_run, report_export
from reports.filters import filters_clean
from reports.formatting import cell_text
from reports.registry import (
    CUSTOMER_SQL,
    DASHBOARD_SQL,
    LAST_DAY_SQL,
    PERIOD,
    REPORTS,
    Report,
    ReportNotFound,
    report_get,
    report_run,
)
from reports.table import row_urls, rows_sorted, sort_clean, table_cells, table_headers

NO_PERMISSION = "Reports are for managers."
# The dashboard's period filters: the reports' own, validated the same way.
DASHBOARD = Report("dashboard", "Dashboard", "Headline figures.", None, PERIOD)
DASHBOARD_CHARTS = ("sales_by_month", "sales_by_store")
FIGURES = ("revenue", "rentals", "average_payment", "active_customers")
CUSTOMER = Report("customer", "Customer", "A customer in the lake.", None, ())
CUSTOMER_ROWS = 500  # rentals and payments listed on a customer's page


def reports_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login (else the login page) and ``lake.view_pipelinerun`` (else 403)."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.has_perm(VIEW_RUNS):
            raise PermissionDenied(NO_PERMISSION)
        return view(request, *args, **kwargs)

    return wrapper


# --- Pages ---------------------------------------------------------------------------------


def _report_or_404(name: str) -> Report:
    try:
        report = report_get(name)
    except ReportNotFound as error:
        raise Http404(str(error)) from None
    return report


def _base_context(request: HttpRequest) -> dict:
    return {"section": "reports", "reports": [r for r in REPORTS.values() if r.listed]}


def _no_data(request: HttpRequest, context: dict) -> HttpResponse:
    context["no_data"] = True
    return render(request, context["template"], context)


def _run_params(report: Report, params: dict) -> dict:
    """The period filters as a report of the registry takes them (it may have more)."""
    return {param.name: params.get(param.name, param.default) for param in report.params}


def _figures(run: PipelineRun, params: dict) -> dict:
    rows = get_query_engine(run.snapshots).execute(
        DASHBOARD_SQL.read_text(),
        {"start": params.get("start"), "end": params.get("end"), "store": params.get("store")},
    )
    return rows.to_pylist()[0]


def _last_day(run: PipelineRun):
    return (
        get_query_engine(run.snapshots).execute(LAST_DAY_SQL.read_text()).to_pylist()[0]["last_day"]
    )


def _comparison(figures: dict, previous: dict) -> dict:
    """Per figure: the previous period's value and the change in percent (None: no base)."""
    changes = {}
    for name in FIGURES:
        now, before = figures.get(name), previous.get(name)
        change = None
        if now is not None and before:
            change = round((float(now) - float(before)) / float(before) * 100, 1)
        changes[name] = {"previous": before, "change": change}
    return changes


@reports_view
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Headline figures for the chosen period and store, compared with the period
    before (as long, just before it), charts, every report; as of any run."""
    filters = filters_clean(DASHBOARD, request.GET)
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
    params, run = filters.params, filters.as_of_run or published
    try:
        figures = _figures(run, params)
        start, end = params.get("start"), params.get("end")
        previous = None
        if start and end:
            days = (end - start).days + 1
            before = {"start": start - timedelta(days), "end": start - timedelta(1)}
            previous = before | {
                "days": days,
                "figures": _comparison(figures, _figures(run, params | before)),
            }
        last_day = _last_day(run)
    except QueryError as error:
        if str(error) == ERROR_NO_DATA:
            return _no_data(request, context)
        context["error"] = str(error)
        return render(request, context["template"], context, status=409)
    charts = []
    for name in DASHBOARD_CHARTS:
        report = REPORTS[name]
        try:
            result = report_run(report, _run_params(report, params), as_of_run=filters.as_of_run)
        except QueryError:
            continue
        travelled = filters.as_of_run.pk if filters.as_of_run else None
        urls = row_urls(report, result.rows, report.chart.x, result.params, travelled)
        charts.append((report, report_charts(report.chart, result.columns, result.rows, urls)))
    query = request.GET.urlencode()
    last_30 = None
    if last_day is not None:
        last_30 = {"start": last_day - timedelta(29), "end": last_day}
    context |= {
        "figures": figures,
        "previous": previous,
        "charts": charts,
        "query": query,
        "as_of": run,
        "travelled": run.pk != published.pk,
        "last_30": last_30,
    }
    return render(request, context["template"], context)


@reports_view
@require_http_methods(["GET", "POST"])
def report_detail(request: HttpRequest, name: str) -> HttpResponse:
    """A report with its filters, chart, sortable table with drill-through links,
    as-of run, cache age and SQL.

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
    sort = sort_clean(request.GET.get("sort"), result.columns)
    rows = rows_sorted(result.rows, sort)
    travelled = filters.as_of_run.pk if filters.as_of_run else None
    urls = row_urls(report, rows, report.chart.x, result.params, travelled) if report.chart else []
    context |= {
        "result": result,
        "rows": rows,
        "as_of": as_of_run(result, filters),
        "travelled": result.run_id != context["published"].pk,
        "table": table_cells(report, result.columns, rows, result.params, travelled),
        "headers": table_headers(result.columns, result.rows, sort),
        "charts": report_charts(report.chart, result.columns, rows, urls) if report.chart else [],
        "meta": {key: value for key, value in result.meta.items() if key != "snapshots"},
        "engine": (engine := get_query_engine(result.meta["snapshots"])),
        "sql_as_sent": engine.sql_as_sent(report.sql, result.params),
        "query": request.GET.urlencode(),
        "refresh_url": request.get_full_path(),
    }
    return render(request, context["template"], context)


@reports_view
@require_GET
def report_csv(request: HttpRequest, name: str) -> HttpResponse:
    """The report's rows as the page shows them, as CSV (``reports.export``)."""
    report = _report_or_404(name)
    try:
        return report_export(report, request.GET)
    except ReportFiltersInvalid as invalid:
        lines = [f"{key}: {' '.join(messages)}" for key, messages in invalid.errors.items()]
        return HttpResponse("\n".join(lines), status=400, content_type="text/plain")
    except QueryError as error:
        return HttpResponse(str(error), status=409, content_type="text/plain")


@reports_view
@require_GET
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    """A customer in the lake: who, their account as of the run, their rentals and
    payments (the latest first), as of any run."""
    filters = filters_clean(CUSTOMER, request.GET)
    published = selectors.published_run()
    context = _base_context(request) | {
        "template": "reports/customer.html",
        "filters": filters,
        "published": published,
        "customer_id": customer_id,
    }
    if published is None:
        return _no_data(request, context)
    if filters.errors:
        return render(request, context["template"], context, status=400)
    run = filters.as_of_run or published
    try:
        found = get_query_engine(run.snapshots).execute(
            CUSTOMER_SQL.read_text(), {"customer": customer_id}
        )
    except QueryError as error:
        if str(error) == ERROR_NO_DATA:
            return _no_data(request, context)
        context["error"] = str(error)
        return render(request, context["template"], context, status=409)
    if not found.num_rows:
        raise Http404(f"No customer {customer_id} in the lake (as of run {run.pk}).")
    customer = found.to_pylist()[0]
    travelled = filters.as_of_run.pk if filters.as_of_run else None
    lists = []
    for name in ("rentals", "payments"):
        report = REPORTS[name]
        params = _run_params(report, {"customer": customer_id, "rows": CUSTOMER_ROWS})
        result = report_run(report, params, as_of_run=filters.as_of_run)
        columns = [c for c in result.columns if c not in ("customer_id", "customer")]
        lists.append(
            {
                "report": report,
                "result": result,
                "headers": table_headers(columns, result.rows, None),
                "table": table_cells(report, columns, result.rows, params, travelled),
                "query": f"customer={customer_id}"
                + (f"&as_of_run={travelled}" if travelled else ""),
            }
        )
    context |= {
        "customer": customer,
        "account": [
            (label, cell_text(customer[column], column))
            for label, column in (
                ("Rentals", "rentals"),
                ("Charged (rates and late fees)", "charged"),
                ("Late fees", "late_fees"),
                ("Received", "received"),
                ("Outstanding", "outstanding"),
            )
        ],
        "lists": lists,
        "as_of": run,
        "travelled": run.pk != published.pk,
    }
    return render(request, context["template"], context)
