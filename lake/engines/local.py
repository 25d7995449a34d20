"""The local engine: the pipeline of ``lake.pipeline`` inside the Celery worker
(or in the foreground with ``lake run``), on the lake under ``LAKE_WAREHOUSE``."""

from datetime import datetime

from lake.engines.base import Engine
from lake.models import CrawledTable, PipelineRun
from lake.pipeline import raw_retention
from lake.pipeline.maintain import maintenance_run_execute
from lake.pipeline.runner import pipeline_run_execute


class LocalEngine(Engine):
    name = "local"
    title = "local"
    runs_elsewhere = False

    def start(self, run: PipelineRun, *, as_of: datetime | None = None) -> None:
        if run.kind == PipelineRun.Kind.MAINTENANCE:
            maintenance_run_execute(run, self)
        else:
            pipeline_run_execute(run, as_of=as_of)

    def refresh(self, run: PipelineRun) -> PipelineRun:
        # The run records its own state as it goes.
        run.refresh_from_db()
        return run

    def cancel(self, run: PipelineRun) -> None:
        # The runner checks cancel_requested_at at every step boundary.
        pass

    def raw_retention(self, before_run: int, *, dry_run: bool) -> raw_retention.RawRetention:
        return raw_retention.raw_retention(before_run, dry_run=dry_run)

    def crawled_tables(self, *, name: str | None = None) -> list[CrawledTable]:
        tables = CrawledTable.objects.order_by("name")
        return list(tables if name is None else tables.filter(name=name))


ENGINE = LocalEngine
