"""Read queries over pipeline runs."""

from lake.models import PipelineRun


def published_run(before_run_id: int | None = None) -> PipelineRun | None:
    """The latest successful run: the one whose snapshots readers see."""
    runs = PipelineRun.objects.filter(status=PipelineRun.Status.SUCCEEDED).exclude(snapshots={})
    if before_run_id is not None:
        runs = runs.filter(pk__lte=before_run_id)
    return runs.order_by("-pk").first()


def published_snapshots() -> dict[str, int]:
    run = published_run()
    return dict(run.snapshots) if run else {}
