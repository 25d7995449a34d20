"""The SQL console page (/lake/sql/), for managers."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from lake import selectors
from lake.query import QueryError
from lake.views import lake_view
from reports import console
from reports.export import csv_response
from reports.views import cell_text, is_number

# --- The SQL console -------------------------------------------------------------------------

EXAMPLE_SQL = (
    "select s.city, count(*) as rentals, sum(f.amount) as revenue\n"
    "from fact_sales f\njoin dim_store s using (store_id)\ngroup by s.city\norder by revenue desc"
)


@lake_view()
@require_http_methods(["GET", "POST"])
def sql_console(request: HttpRequest) -> HttpResponse:
    """One read-only SELECT on the marts; POST runs it (format=csv downloads it)."""
    sql = request.POST.get("sql", "") if request.method == "POST" else EXAMPLE_SQL
    context = {
        "section": "sql",
        "sql": sql,
        "marts": console.console_mart_list(),
        "row_limit": console.ROW_LIMIT,
        "export_row_limit": console.EXPORT_ROW_LIMIT,
        "timeout": console.TIMEOUT_SECONDS,
        "published": selectors.published_run(),
    }
    if request.method == "GET":
        return render(request, "reports/sql_console.html", context)
    as_csv = request.POST.get("format") == "csv"
    limit = console.EXPORT_ROW_LIMIT if as_csv else console.ROW_LIMIT
    try:
        result = console.console_query_run(sql, limit=limit)
    except QueryError as error:
        context["error"] = str(error)
        return render(request, "reports/sql_console.html", context, status=400)
    if as_csv:
        capped = f"_first-{limit}-rows" if result.capped else ""
        return csv_response(f"lake-query{capped}", result.columns, result.rows)
    first = result.rows[0] if result.rows else ()
    context |= {
        "result": result,
        "headers": [(c, is_number(v)) for c, v in zip(result.columns, first, strict=False)],
        "table": [[(cell_text(v), is_number(v)) for v in row] for row in result.rows],
    }
    return render(request, "reports/sql_console.html", context)
