"""Charts drawn by Apache ECharts (vendored in static/vendor/echarts/).

Like Metabase and Superset, the app owns the data and a small spec per chart
(an ECharts option as JSON); ``static/js/charts.js`` hands it to the library,
which draws it (tooltips, legend, time axis, resizing). Each chart carries a
text alternative (its ``aria-label``) and the table of its data, shown under
it (templates/_echart.html). Value formats travel as names (``money``,
``percent``, ``number``, ``seconds``) that charts.js turns into formatters,
so a tooltip says ``$1,234.50`` as the table does.
"""

import itertools
from dataclasses import dataclass, field

_ids = itertools.count(1)
DAY_MS = 24 * 3600 * 1000


@dataclass
class EChart:
    title: str
    alt: str  # the text alternative: what it shows and its extremes
    option: dict  # the ECharts option (JSON), formats by name
    columns: list[str]  # the data table's header
    rows: list[list[str]]  # the data table, as text
    height: int = 320
    note: str = ""  # e.g. that it draws only the first rows
    id: str = field(default_factory=lambda: f"chart-{next(_ids)}")

    @property
    def spec_id(self) -> str:
        return f"{self.id}-spec"

    @property
    def spec(self) -> dict:
        return {"option": self.option}


def category_bars(
    *,
    title: str,
    labels: list[str],
    values: list[float | None],
    texts: list[str],
    value_format: str = "number",
    urls: list[str | None] | None = None,
    colours: list[str] | None = None,
    note: str = "",
    label_title: str = "",
) -> EChart:
    """Horizontal bars, one per label (first on top): long labels read on the left."""
    data = []
    for index, value in enumerate(values):
        point: dict = {"value": value}
        if urls and urls[index]:
            point["url"] = urls[index]
        if colours:
            point["itemStyle"] = {"color": colours[index]}
        data.append(point)
    option = {
        "grid": {"left": 8, "right": 24, "top": 28, "bottom": 8, "containLabel": True},
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"show": False},
        "xAxis": {"type": "value", "format": value_format, "position": "top"},
        "yAxis": {
            "type": "category",
            "inverse": True,
            "data": labels,
            "axisLabel": {"width": 260, "overflow": "truncate"},
        },
        "series": [{"type": "bar", "name": title, "data": data, "format": value_format}],
    }
    return EChart(
        title=title,
        alt=_alt(title, labels, values, texts, "bar chart"),
        option=option,
        columns=[label_title or "label", title],
        rows=[[label, text] for label, text in zip(labels, texts, strict=True)],
        height=max(160, 40 + 26 * len(labels)),
        note=note,
    )


@dataclass
class Series:
    name: str
    values: list[float | None]
    texts: list[str]
    value_format: str = "number"
    kind: str = "line"  # or "bar"


def time_series(
    *,
    title: str,
    dates: list[str],
    labels: list[str],
    series: list[Series],
    unit: str = "month",
    urls: list[str | None] | None = None,
    label_title: str = "",
) -> EChart:
    """A real time axis (``dates`` as YYYY-MM-DD): missing periods are left empty, so a
    gap of years looks like one. Up to two value axes (one per format), a legend,
    and a zoom under the axis."""
    formats = list(dict.fromkeys(s.value_format for s in series))[:2]
    option = {
        "grid": {"left": 8, "right": 8, "top": 48, "bottom": 56, "containLabel": True},
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0, "data": [s.name for s in series]},
        # Ticks no closer than a period (one month of data is not drawn in hours).
        "xAxis": {"type": "time", "minInterval": DAY_MS * (28 if unit == "month" else 1)},
        "yAxis": [
            {"type": "value", "format": fmt, "name": "", "splitLine": {"show": index == 0}}
            for index, fmt in enumerate(formats)
        ],
        "dataZoom": [{"type": "inside"}, {"type": "slider", "height": 20, "bottom": 8}],
        "series": [
            {
                "type": s.kind,
                "name": s.name,
                "yAxisIndex": formats.index(s.value_format) if s.value_format in formats else 0,
                "format": s.value_format,
                "connectNulls": False,
                "showSymbol": True,
                "symbolSize": 5,
                "data": [
                    {
                        "value": [day, value],
                        **({"url": urls[index]} if urls and urls[index] else {}),
                    }
                    for index, (day, value) in enumerate(zip(dates, s.values, strict=True))
                ],
            }
            for s in series
        ],
    }
    shown = list(zip(labels, zip(*(s.texts for s in series), strict=True), strict=True))
    rows = [[day, *texts] for day, texts in shown if any(text for text in texts)]
    first = series[0]
    return EChart(
        title=title,
        alt=_alt(
            title,
            [row[0] for row in rows],
            [v for v in first.values if v is not None],
            [t for t in first.texts if t],
            "time series chart",
        ),
        option=option,
        columns=[label_title or unit, *(s.name for s in series)],
        rows=rows,
        height=340,
    )


def _alt(title: str, labels: list, values: list, texts: list, kind: str) -> str:
    """The chart in one sentence: what, how many, and where it peaks."""
    pairs = [
        (v, label, t) for v, label, t in zip(values, labels, texts, strict=False) if v is not None
    ]
    if not pairs:
        return f"{title}: {kind}, no data."
    high = max(pairs, key=lambda pair: pair[0])
    low = min(pairs, key=lambda pair: pair[0])
    return (
        f"{title}: {kind} of {len(pairs)} values; highest {high[1]} ({high[2]}), "
        f"lowest {low[1]} ({low[2]}). The table below lists them all."
    )


def category_columns(
    *,
    title: str,
    labels: list[str],
    series: list[Series],
    urls: list[str | None] | None = None,
    colours: dict[str, str] | None = None,
    label_title: str = "",
    alt_kind: str = "column chart",
) -> EChart:
    """Vertical bars over ``labels``, one series each (stacked: a series per status
    leaves the others' bars empty), with a legend."""
    fmt = series[0].value_format if series else "number"
    option = {
        "grid": {"left": 8, "right": 16, "top": 40, "bottom": 8, "containLabel": True},
        "tooltip": {"trigger": "item"},
        "legend": {"top": 0, "data": [s.name for s in series]},
        "xAxis": {"type": "category", "data": labels, "axisTick": {"alignWithLabel": True}},
        "yAxis": {"type": "value", "format": fmt},
        "series": [
            {
                "type": "bar",
                "name": s.name,
                "stack": "all",
                "format": s.value_format,
                "barMaxWidth": 36,
                **(
                    {"itemStyle": {"color": colours[s.name]}}
                    if colours and s.name in colours
                    else {}
                ),
                "data": [
                    None
                    if value is None
                    else {"value": value, **({"url": urls[index]} if urls and urls[index] else {})}
                    for index, value in enumerate(s.values)
                ],
            }
            for s in series
        ],
    }
    rows = []
    for index, label in enumerate(labels):
        cells = [s.texts[index] for s in series]
        rows.append([label, *cells])
    values = [
        next((s.values[i] for s in series if s.values[i] is not None), None)
        for i in range(len(labels))
    ]
    texts = [next((s.texts[i] for s in series if s.texts[i]), "") for i in range(len(labels))]
    return EChart(
        title=title,
        alt=_alt(title, labels, values, texts, alt_kind),
        option=option,
        columns=[label_title or "label", *(s.name for s in series)],
        rows=rows,
        height=260,
    )
