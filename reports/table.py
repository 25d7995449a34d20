"""A report's table as the page shows it: sorted by a column of the URL
(``?sort=revenue``, ``?sort=-revenue`` descending), each cell formatted, and
cells that sum something up linked to it (drill-through)."""

import calendar
from dataclasses import dataclass
from datetime import date

from django.urls import reverse
from django.utils.http import urlencode

from reports.formatting import cell_text, column_title, is_key, is_number
from reports.registry import REPORTS, Drill, Report


@dataclass(frozen=True)
class Header:
    column: str
    title: str
    number: bool
    sort: str  # "ascending", "descending" or "" (aria-sort)
    sort_value: str  # the ``sort`` value its link asks for


@dataclass(frozen=True)
class Cell:
    text: str
    number: bool
    url: str = ""


def sort_clean(value: str | None, columns: list[str]) -> tuple[str, bool] | None:
    """(column, descending) from ``sort``; None when absent or not a column."""
    value = (value or "").strip()
    column = value.removeprefix("-")
    if not column or column not in columns:
        return None
    return column, value.startswith("-")


def rows_sorted(rows: list[dict], sort: tuple[str, bool] | None) -> list[dict]:
    """The rows by a column (empty cells last either way); as they are without."""
    if sort is None:
        return rows
    column, descending = sort
    present = [row for row in rows if row[column] is not None]
    missing = [row for row in rows if row[column] is None]
    return sorted(present, key=lambda row: row[column], reverse=descending) + missing


def table_headers(
    columns: list[str], rows: list[dict], sort: tuple[str, bool] | None
) -> list[Header]:
    headers = []
    for column in columns:
        number = any(is_number(row[column]) for row in rows[:1]) and not is_key(column)
        state = ""
        if sort and sort[0] == column:
            state = "descending" if sort[1] else "ascending"
        # Numbers sort largest first at the first click, text A to Z; a second click flips.
        first = f"-{column}" if number else column
        flipped = column if state == "descending" else f"-{column}"
        headers.append(
            Header(column, column_title(column), number, state, flipped if state else first)
        )
    return headers


def drill_url(drill: Drill, row: dict, params: dict, as_of_run_id: int | None = None) -> str | None:
    """Where ``row``'s ``drill.column`` cell leads, with the page's filters that apply."""
    value = row.get(drill.key or drill.column)
    if value is None:
        return None
    query: dict = {}
    if drill.to == "customer":
        path = reverse("reports:customer", args=[value])
    else:
        target = REPORTS[drill.to]
        path = reverse("reports:report", args=[target.name])
        names = {param.name for param in target.params} - {"top", "rows"}
        query = {k: v for k, v in params.items() if k in names and v is not None}
        if drill.period:
            start, end = _period(value, drill.period)
            if params.get("start"):
                start = max(start, params["start"])
            if params.get("end"):
                end = min(end, params["end"])
            query |= {"start": start, "end": end}
        elif drill.param:
            query[drill.param] = value
    if as_of_run_id is not None:
        query["as_of_run"] = as_of_run_id
    return f"{path}?{urlencode(query)}" if query else path


def _period(value, period: str) -> tuple[date, date]:
    if period == "day":
        day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
        return day, day
    year, month = (int(part) for part in str(value).split("-")[:2])
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def row_urls(report: Report, rows: list[dict], column: str, params, as_of_run_id) -> list:
    """The drill-through of ``column`` for each row (None: that column does not drill)."""
    drill = next((d for d in report.drills if d.column == column), None)
    if drill is None:
        return [None] * len(rows)
    return [drill_url(drill, row, params, as_of_run_id) for row in rows]


def table_cells(
    report: Report, columns: list[str], rows: list[dict], params: dict, as_of_run_id=None
) -> list[list[Cell]]:
    links = {drill.column: drill for drill in report.drills if drill.column in columns}
    table = []
    for row in rows:
        cells = []
        for column in columns:
            value = row[column]
            drill = links.get(column)
            url = drill_url(drill, row, params, as_of_run_id) if drill else None
            number = is_number(value) and not is_key(column)
            cells.append(Cell(cell_text(value, column), number, url or ""))
        table.append(cells)
    return table
