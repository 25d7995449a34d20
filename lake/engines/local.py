"""The local engine: the pipeline of ``lake.pipeline`` inside the Celery worker."""

from lake.engines.base import Engine
from lake.models import PipelineRun
from lake.pipeline.maintain import maintenance_run_execute
from lake.pipeline.runner import pipeline_run_execute


class LocalEngine(Engine):
    name = "local"
    runs_elsewhere = False

    def start(self, run: PipelineRun) -> None:
        if run.kind == PipelineRun.Kind.MAINTENANCE:
            maintenance_run_execute(run)
        else:
            pipeline_run_execute(run)

    def refresh(self, run: PipelineRun) -> PipelineRun:
        # The run records its own state as it goes.
        run.refresh_from_db()
        return run

    def cancel(self, run: PipelineRun) -> None:
        # The runner checks cancel_requested_at at every step boundary.
        pass


ENGINE = LocalEngine
