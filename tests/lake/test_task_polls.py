"""The polls of a run that runs elsewhere (Glue), queued or eager."""

import pytest

from lake import tasks
from lake.models import PipelineRun
from sakila_site.celery import app

pytestmark = pytest.mark.django_db


class EndsAfter:
    """An engine that runs elsewhere whose run ends at the ``polls``-th refresh."""

    runs_elsewhere = True

    def __init__(self, polls: int) -> None:
        self.polls, self.refreshes = polls, 0

    def start(self, run: PipelineRun) -> None:
        PipelineRun.objects.filter(pk=run.pk).update(status=PipelineRun.Status.RUNNING)

    def refresh(self, run: PipelineRun) -> PipelineRun:
        self.refreshes += 1
        if self.refreshes >= self.polls:
            PipelineRun.objects.filter(pk=run.pk).update(status=PipelineRun.Status.SUCCEEDED)
        run.refresh_from_db()
        return run


def test_eager_tasks_poll_a_glue_run_to_its_end_waiting_between_polls(monkeypatch):
    # CELERY_TASK_ALWAYS_EAGER runs a task at once whatever its countdown: a poll
    # that queued the next poll would call itself without waiting, 144 times in
    # 28 s on Glue, until a RecursionError left the run "running".
    engine = EndsAfter(polls=40)
    waits: list[float] = []
    monkeypatch.setattr(tasks, "get_engine", lambda name: engine)
    monkeypatch.setattr(tasks.time, "sleep", waits.append)
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    run = PipelineRun.objects.create(engine="glue")

    tasks.pipeline_run_task.delay(run.pk)

    run.refresh_from_db()
    assert run.status == PipelineRun.Status.SUCCEEDED and engine.refreshes == 40
    # As queued polls wait: 5 s first, then doubling up to a minute.
    assert waits[:5] == [5, 5, 10, 20, 40] and waits[5:] == [60] * 35


def test_queued_polls_are_scheduled_with_backoff(monkeypatch):
    engine = EndsAfter(polls=2)
    scheduled = []
    monkeypatch.setattr(tasks, "get_engine", lambda name: engine)
    monkeypatch.setattr(
        tasks.pipeline_run_poll_task,
        "apply_async",
        lambda args, countdown: scheduled.append((args, countdown)),
    )
    run = PipelineRun.objects.create(engine="glue")

    tasks.pipeline_run_task(run.pk)
    tasks.pipeline_run_poll_task(run.pk, 0)
    tasks.pipeline_run_poll_task(run.pk, 1)

    assert scheduled == [((run.pk, 0), 5), ((run.pk, 1), 5)]
    assert PipelineRun.objects.get(pk=run.pk).status == PipelineRun.Status.SUCCEEDED
