"""The SQL console page (/lake/sql/), for managers.

A query runs only when POSTed (with the CSRF token): a link
(``?sql=...&as_of_run=N``, the page's "Link to this query" and the history)
fills the editor and waits for a click, so a link from another site cannot
make a manager's browser run a query. Each user's last queries are kept in
their session.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from lake import selectors
from lake.panel.views import lake_view
from lake.query import QueryError, console
from reports.export import csv_response
from reports.filters import time_travel_runs
from reports.formatting import cell_text, is_key, is_number
from reports.registry import report_run_get

EXAMPLE_SQL = (
    "select s.city, count(*) as rentals, sum(f.amount) as revenue\n"
    "from fact_sales f\njoin dim_store s using (store_id)\ngroup by s.city\norder by revenue desc"
)


@lake_view()
@require_http_methods(["GET", "POST"])
def sql_console(request: HttpRequest) -> HttpResponse:
    """One read-only SELECT on the marts, as of the published run or an earlier one:
    ``sql`` POSTed runs it (``format=csv`` downloads it); in the query string it
    only fills the editor."""
    data = request.POST if request.method == "POST" else request.GET
    sql = data.get("sql")
    run_value = (data.get("as_of_run") or "").strip()
    context = {
        "section": "sql",
        "sql": EXAMPLE_SQL if sql is None else sql,
        "marts": console.console_mart_list(),
        "row_limit": console.ROW_LIMIT,
        "export_row_limit": console.EXPORT_ROW_LIMIT,
        "max_mb": round(settings.SQL_CONSOLE_MAX_BYTES / 2**20),
        "memory_mb": settings.SQL_CONSOLE_MEMORY_LIMIT_MB,
        "timeout": settings.SQL_CONSOLE_TIMEOUT_SECONDS,
        "published": selectors.published_run(),
        "runs": time_travel_runs(),
        "as_of_run": run_value,
        "history": console.console_history_list(request.session),
    }
    if sql is None or request.method != "POST":
        context["from_link"] = sql is not None
        return render(request, "reports/sql_console.html", context)
    as_of_run = None
    try:
        if run_value:
            as_of_run = report_run_get(run_value)
    except ValidationError as error:
        context["error"] = " ".join(error.message_dict["as_of_run"])
        return render(request, "reports/sql_console.html", context, status=400)
    as_csv = data.get("format") == "csv"
    if sql.strip():
        context["history"] = console.console_history_add(request.session, sql)
    try:
        if as_csv:
            result = console.console_query_run(
                sql,
                limit=console.EXPORT_ROW_LIMIT,
                max_bytes=settings.SQL_CONSOLE_EXPORT_MAX_BYTES,
                as_of_run=as_of_run,
            )
        else:
            result = console.console_query_run(sql, as_of_run=as_of_run)
    except QueryError as error:
        context["error"] = str(error)
        return render(request, "reports/sql_console.html", context, status=400)
    if as_csv:
        capped = f"_first-{result.limit}-rows" if result.capped else ""
        run = f"_run-{as_of_run.pk}" if as_of_run else ""
        return csv_response(f"lake-query{run}{capped}", result.columns, result.rows)
    first = result.rows[0] if result.rows else ()
    query = {"sql": sql, **({"as_of_run": run_value} if run_value else {})}
    context |= {
        "result": result,
        "headers": [
            (c, is_number(v) and not is_key(c)) for c, v in zip(result.columns, first, strict=False)
        ],
        "table": [
            [
                (cell_text(v, c), is_number(v) and not is_key(c))
                for c, v in zip(result.columns, row, strict=True)
            ]
            for row in result.rows
        ],
        "share_url": request.build_absolute_uri(f"{reverse('sql-console')}?{urlencode(query)}"),
        "csv_query": urlencode({**query, "format": "csv"}),
    }
    return render(request, "reports/sql_console.html", context)
