"""CSV exports of reports and of the SQL console.

An export is exactly what the page shows (the page's CSV link and the API's
``?format=csv`` make the same file): one plain header row (the column
names), then the rows, so ``pandas.read_csv`` and spreadsheets read it as it
is. What it is of (the report, its filters, the run) goes in the file name
and in HTTP headers, never in the file.

Cells are written by ``sakila_site.csv_safe`` (formula-like text neutralised).
"""

from collections.abc import Iterable, Sequence

from django.http import HttpResponse, QueryDict

from lake.models import PipelineRun
from reports.filters import Filters, filters_clean
from reports.registry import Report, ReportResult, report_run
from reports.table import rows_sorted, sort_clean
from sakila_site.csv_safe import csv_write

# HTTP headers that say what an export is of (the file holds only the table).
HEADER_TITLE = "X-Report-Title"
HEADER_FILTERS = "X-Report-Filters"
HEADER_RUN = "X-Report-Run"


def csv_response(
    filename: str, columns: Sequence[str], rows: Iterable[Sequence], headers: dict | None = None
) -> HttpResponse:
    """A CSV download named ``filename`` (.csv added), with ``headers`` describing it."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    for name, value in (headers or {}).items():
        response[name] = " ".join(str(value).split())
    csv_write(response, columns, rows)
    return response


class ReportFiltersInvalid(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def as_of_run(result: ReportResult, filters: Filters) -> PipelineRun | None:
    """The run whose data ``result`` shows."""
    if filters.as_of_run is not None:
        return filters.as_of_run
    return PipelineRun.objects.filter(pk=result.run_id).first()


def report_export(report: Report, query: QueryDict) -> HttpResponse:
    """The rows and columns the report's page shows for ``query`` (its filters,
    ``as_of_run`` and ``sort``), in its order: a header row, then the rows; the
    filters and run are in the file name and the X-Report-* headers.

    Raises ``ReportFiltersInvalid`` (errors by parameter) and ``QueryError``.
    """
    filters = filters_clean(report, query)
    if filters.errors:
        raise ReportFiltersInvalid(filters.errors)
    result = report_run(report, filters.params, as_of_run=filters.as_of_run)
    run = as_of_run(result, filters)
    finished = f", finished {run.finished_at:%Y-%m-%d %H:%M:%S}" if run and run.finished_at else ""
    sort = sort_clean(query.get("sort"), result.columns)
    parts = (report.name, filters.slug, f"sorted-{query['sort']}" if sort else "")
    headers = {
        HEADER_TITLE: f"{report.title} ({report.name})",
        HEADER_FILTERS: filters.description or "none",
        HEADER_RUN: f"{result.run_id}{finished}",
    }
    rows = ([row[c] for c in result.columns] for row in rows_sorted(result.rows, sort))
    filename = "_".join(part for part in (*parts, f"run-{result.run_id}") if part)
    return csv_response(filename, result.columns, rows, headers)
