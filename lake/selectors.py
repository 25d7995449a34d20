"""Read queries over pipeline runs."""

from lake.models import PipelineRun


def published_run() -> PipelineRun | None:
    """The latest successful run: the one whose snapshots readers see."""
    runs = PipelineRun.objects.filter(status=PipelineRun.Status.SUCCEEDED).exclude(snapshots={})
    return runs.order_by("-pk").first()


def published_snapshots() -> dict[str, int]:
    run = published_run()
    return dict(run.snapshots) if run else {}


def active_run() -> PipelineRun | None:
    """The queued or running run, if any (there is at most one)."""
    return PipelineRun.objects.filter(status__in=PipelineRun.ACTIVE).order_by("pk").first()
