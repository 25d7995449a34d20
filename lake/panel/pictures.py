"""The pictures of the control panel: the duration trend of recent runs and a
run's step timeline, and its watermarks as rows."""

from dataclasses import dataclass
from datetime import datetime

from django.urls import reverse
from django.utils import timezone

from lake.models import PipelineRun, PipelineStep
from sakila_site.charts import EChart, Series, category_columns

# Bar colours by run status (as the status badges).
STATUS_COLOURS = {
    "succeeded": "#2f9e44",
    "failed": "#e03131",
    "checks_failed": "#e03131",
    "cancelled": "#9aa5b1",
    "running": "#1c7ed6",
    "queued": "#f0b429",
}


def duration_chart(runs: list[PipelineRun], *, now: datetime | None = None) -> EChart | None:
    """The runs' durations (a running run: so far), oldest on the left, one series
    per status (the legend); a bar opens its run. Drawn by ECharts."""
    now = now or timezone.now()
    timed = [
        (run, round(((run.finished_at or now) - run.started_at).total_seconds(), 1))
        for run in runs
        if run.started_at is not None
    ]
    if not timed:
        return None
    statuses = sorted({run.status for run, _ in timed})
    series = [
        Series(
            name=status,
            values=[seconds if run.status == status else None for run, seconds in timed],
            texts=[
                _seconds_label(seconds) if run.status == status else "" for run, seconds in timed
            ],
            value_format="seconds",
        )
        for status in statuses
    ]
    count = len(timed)
    return category_columns(
        title=f"Duration of the last {count} run{'s' if count != 1 else ''}",
        labels=[str(run.pk) for run, _ in timed],
        series=series,
        urls=[reverse("lake:run", args=[run.pk]) for run, _ in timed],
        colours=STATUS_COLOURS,
        label_title="run",
        alt_kind="bar chart of run durations by status",
    )


def _seconds_label(seconds: float) -> str:
    if seconds >= 120:
        minutes = seconds / 60
        return f"{minutes:.0f} min" if minutes == int(minutes) else f"{minutes:.1f} min"
    return f"{seconds:g} s"


@dataclass(frozen=True)
class TimelineRow:
    step: PipelineStep
    left: float  # percent of the run's duration
    width: float

    @property
    def log_line(self) -> str:
        """The log's first line, in the steps table (the whole log is under the row)."""
        return self.step.log.strip().partition("\n")[0]

    @property
    def log_continues(self) -> bool:
        """Whether the log has more than its first line (a traceback, say)."""
        return "\n" in self.step.log.strip()


def step_timeline(
    run: PipelineRun, steps: list[PipelineStep], *, now: datetime | None = None
) -> list[TimelineRow]:
    """Each step placed on the run's time axis (a running step: up to now)."""
    now = now or timezone.now()
    start = run.started_at
    end = run.finished_at or now
    if start is None:
        return [TimelineRow(step, 0.0, 0.0) for step in steps]
    total = max((end - start).total_seconds(), 0.001)
    rows = []
    for step in steps:
        if step.started_at is None:
            rows.append(TimelineRow(step, 0.0, 0.0))
            continue
        finished = step.finished_at or now
        left = max((step.started_at - start).total_seconds(), 0) / total * 100
        width = max((finished - step.started_at).total_seconds(), 0) / total * 100
        width = max(min(width, 100 - min(left, 99.6)), 0.4)
        rows.append(TimelineRow(step, round(min(left, 99.6), 2), round(width, 2)))
    return rows


def watermark_rows(run: PipelineRun) -> list[tuple[list[str], str, str]]:
    """(tables, from, to) of a run's watermarks: where it read from and up to, tables
    with the same pair together (a run reads every table in one snapshot)."""
    pairs: dict[tuple[str, str], list[str]] = {}
    for table in sorted(set(run.watermarks_from) | set(run.watermarks_to)):
        start = run.watermarks_from.get(table, "")[:19]  # to the second
        end = run.watermarks_to.get(table, "")[:19]
        pairs.setdefault((start, end), []).append(table)
    return [(tables, start, end) for (start, end), tables in pairs.items()]
