"""CSV exports of reports and of the SQL console.

An export is exactly what the page shows: one plain header row (the column
names), then the rows, so ``pandas.read_csv`` and spreadsheets read it as it
is. What it is of (the report, its filters, the run) goes in the file name
and in HTTP headers, never in the file.

Cells are written by ``sakila_site.csv_safe`` (formula-like text neutralised).
"""

from collections.abc import Iterable, Sequence

from django.http import HttpResponse

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
