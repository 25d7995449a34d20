"""CSV exports of reports and of the SQL console.

An export is exactly what the page shows: one plain header row (the column
names), then the rows, so ``pandas.read_csv`` and spreadsheets read it as it
is. What it is of (the report, its filters, the run) goes in the file name
and in HTTP headers, never in the file.

Text cells that a spreadsheet would take for a formula (starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return) are neutralised with a
leading ``'``, as OWASP advises against CSV injection:
https://owasp.org/www-community/attacks/CSV_Injection. Numbers are left as
they are (a negative balance stays a number).
"""

import csv
from collections.abc import Iterable, Sequence
from typing import IO

from django.http import HttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# HTTP headers that say what an export is of (the file holds only the table).
HEADER_TITLE = "X-Report-Title"
HEADER_FILTERS = "X-Report-Filters"
HEADER_RUN = "X-Report-Run"


def csv_cell(value):
    """``value`` as written in a CSV cell: empty for NULL, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_write(out: IO[str], columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """The header row, then each row (a sequence in the order of ``columns``)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([csv_cell(column) for column in columns])
    writer.writerows([csv_cell(value) for value in row] for row in rows)


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
