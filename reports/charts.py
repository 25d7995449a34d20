"""A report's chart as ECharts specs (sakila_site/charts.py): bars of a category,
or series over a real time axis (months or days, gaps shown as gaps)."""

from datetime import date, timedelta

from reports.formatting import cell_text, column_title, is_money, is_share
from reports.registry import Chart
from sakila_site.charts import EChart, Series, category_bars, time_series

MAX_FILLED_PERIODS = 5000  # empty periods drawn as gaps, up to this many points


def value_format(column: str) -> str:
    if is_share(column):
        return "percent"
    return "money" if is_money(column) else "number"


def _number(value) -> float | None:
    return None if value is None else round(float(value), 4)


def report_charts(
    chart: Chart, columns: list[str], rows: list[dict], urls: list[str | None] | None = None
) -> list[EChart]:
    """The report's charts: one per value column for bars (they have different
    units), one with every value column for a time series. ``urls``: where each
    row drills through to (a click on its bar or point)."""
    if not rows or chart.x not in columns:
        return []
    values = [y for y in chart.y if y in columns]
    if chart.kind == "time":
        return [_time_chart(chart, values, rows, urls)]
    note = ""
    if chart.limit is not None and len(rows) > chart.limit:
        note = f"The first {chart.limit} of {len(rows):,} rows; the table lists them all."
        rows, urls = rows[: chart.limit], (urls or [])[: chart.limit] or None
    labels = [cell_text(row[chart.x], chart.x) for row in rows]
    return [
        category_bars(
            title=column_title(y),
            labels=labels,
            values=[_number(row[y]) for row in rows],
            texts=[cell_text(row[y], y) for row in rows],
            value_format=value_format(y),
            urls=urls,
            note=note,
            label_title=column_title(chart.x),
        )
        for y in values
    ]


def _period_start(value, unit: str) -> date:
    if isinstance(value, date):
        return value
    text = str(value)
    return date.fromisoformat(f"{text}-01" if unit == "month" else text[:10])


def _next(day: date, unit: str) -> date:
    if unit == "day":
        return day + timedelta(days=1)
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _time_chart(chart: Chart, values: list[str], rows: list[dict], urls) -> EChart:
    """Every period from the first row's to the last, the missing ones empty."""
    unit = chart.unit
    by_period = {
        _period_start(row[chart.x], unit): (row, (urls or [None] * len(rows))[index])
        for index, row in enumerate(rows)
    }
    periods = sorted(by_period)
    filled, day = [], periods[0]
    while day <= periods[-1] and len(filled) < MAX_FILLED_PERIODS:
        filled.append(day)
        day = _next(day, unit)
    if len(filled) >= MAX_FILLED_PERIODS:
        filled = periods
    series = []
    for y in values:
        found = [by_period.get(day, (None, None))[0] for day in filled]
        series.append(
            Series(
                name=column_title(y),
                values=[None if row is None else _number(row[y]) for row in found],
                texts=["" if row is None else cell_text(row[y], y) for row in found],
                value_format=value_format(y),
            )
        )
    label = "%Y-%m" if unit == "month" else "%Y-%m-%d"
    return time_series(
        title=" and ".join(s.name for s in series) + f" by {unit}",
        dates=[day.isoformat() for day in filled],
        labels=[day.strftime(label) for day in filled],
        series=series,
        unit=unit,
        urls=[by_period.get(day, (None, None))[1] for day in filled],
        label_title=column_title(chart.x),
    )
