"""Orchestration services: one run at a time, cancel, retry, debounced refreshes.

The Celery side is checked end to end in test_tasks.py; here the queueing of
tasks is recorded instead, to check what is asked for and how often.
"""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from lake import services, tasks
from lake.models import PipelineLock, PipelineRun, PipelineRunEvent
from lake.pipeline.runner import ERROR_NEVER_STARTED, pipeline_runs_reap
from rentals import services as rental_services
from tests.factories import CustomerFactory, FilmFactory, InventoryFactory, StaffFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queued(monkeypatch) -> list[tuple[str, tuple, dict]]:
    """The tasks queued, as (task name, args, options)."""
    calls = []
    for task in (tasks.pipeline_run_task, tasks.lake_refresh_task):

        def record(*args, _name=task.name, **kwargs):
            calls.append((_name, args, kwargs))

        monkeypatch.setattr(task, "delay", record)
        monkeypatch.setattr(
            task,
            "apply_async",
            lambda args=(), _name=task.name, **kw: calls.append((_name, args, kw)),
        )
    return calls


def test_a_requested_run_is_queued_after_commit(queued, manager):
    with transaction.atomic():
        run = services.pipeline_run_request(full=True, user=manager)
        assert queued == []  # a worker must not look before the run is committed
    assert queued == [("lake.tasks.pipeline_run_task", (run.pk,), {})]
    event = run.events.get()
    assert (event.action, event.user) == (PipelineRunEvent.Action.TRIGGERED, manager)
    assert event.message == "Full run triggered from the control panel."


def test_one_run_at_a_time(queued):
    first = services.pipeline_run_request()
    with pytest.raises(services.AlreadyRunning) as refused:
        services.pipeline_run_request()
    assert refused.value.run == first
    assert PipelineRun.objects.count() == 1


def test_cancelling_a_queued_run_ends_it_at_once(queued, manager):
    run = services.pipeline_run_request()
    cancelled = services.pipeline_run_cancel(run=run, user=manager)
    assert cancelled.status == PipelineRun.Status.CANCELLED
    assert cancelled.cancel_requested_by == manager
    with pytest.raises(services.RunStateError) as refused:
        services.pipeline_run_cancel(run=run, user=manager)
    assert str(refused.value) == services.ERROR_NOT_ACTIVE.format(run_id=run.pk, status="cancelled")
    services.pipeline_run_request()  # no longer in the way


def test_only_failed_or_cancelled_runs_are_retried(queued, manager):
    done = PipelineRun.objects.create(status=PipelineRun.Status.SUCCEEDED, full=True)
    with pytest.raises(services.RunStateError):
        services.pipeline_run_retry(run=done, user=manager)
    failed = PipelineRun.objects.create(status=PipelineRun.Status.FAILED, full=True)
    retry = services.pipeline_run_retry(run=failed, user=manager)
    assert (retry.retry_of, retry.full, retry.status) == (failed, True, PipelineRun.Status.QUEUED)
    assert failed.events.get().message == f"Retried as run {retry.pk}."


def test_only_failed_or_cancelled_glue_runs_are_resumed(queued, manager):
    # The Glue side (reading the workflow run, resuming it) is in engines/test_glue.py.
    local = PipelineRun.objects.create(status=PipelineRun.Status.FAILED, engine="local")
    with pytest.raises(services.RunStateError) as refused:
        services.pipeline_run_resume(run=local, user=manager)
    assert str(refused.value) == services.ERROR_RESUME_ENGINE.format(
        run_id=local.pk, engine="local"
    )
    done = PipelineRun.objects.create(status=PipelineRun.Status.SUCCEEDED, engine="glue")
    with pytest.raises(services.RunStateError) as refused:
        services.pipeline_run_resume(run=done, user=manager)
    assert str(refused.value) == services.ERROR_NOT_RESUMABLE.format(
        run_id=done.pk, status="succeeded"
    )
    assert services.pipeline_run_resume_step(local) is None
    assert services.pipeline_run_resume_step(done) is None
    assert PipelineRun.objects.count() == 2 and queued == []


def test_a_burst_of_requests_schedules_one_refresh(queued, settings):
    settings.LAKE_REFRESH_DEBOUNCE_SECONDS = 5
    for _ in range(10):
        services.lake_refresh_request()
    assert queued == [("lake.tasks.lake_refresh_task", (), {"countdown": 5})]

    run = services.lake_refresh_start()

    assert run.trigger == PipelineRun.Trigger.EVENT and run.status == PipelineRun.Status.QUEUED
    lock = PipelineLock.objects.get()
    assert lock.refresh_requested_at is None and lock.refresh_due_at is None
    services.lake_refresh_request()  # the next burst schedules again
    assert len(queued) == 2


def test_a_refresh_waits_for_the_active_run(queued, settings):
    settings.LAKE_REFRESH_DEBOUNCE_SECONDS = 2
    PipelineRun.objects.create(status=PipelineRun.Status.RUNNING)
    services.lake_refresh_request()
    assert services.lake_refresh_start() is None
    assert queued[-1] == ("lake.tasks.lake_refresh_task", (), {"countdown": 2})
    assert PipelineLock.objects.get().refresh_requested_at is not None


def test_a_run_queued_after_the_request_covers_the_refresh(queued, settings):
    settings.LAKE_REFRESH_DEBOUNCE_SECONDS = 2
    services.lake_refresh_request()  # a rental, then "Run now" before the refresh is due
    manual = services.pipeline_run_request()
    assert services.lake_refresh_start() is None  # waits for the manual run
    PipelineRun.objects.filter(pk=manual.pk).update(
        status=PipelineRun.Status.SUCCEEDED, snapshots={"marts.fact_sales": 1}
    )

    assert services.lake_refresh_start() is None
    assert PipelineRun.objects.count() == 1
    lock = PipelineLock.objects.get()
    assert lock.refresh_requested_at is None and lock.refresh_due_at is None


def test_a_refresh_asked_for_during_a_run_makes_its_own_run(queued, settings):
    settings.LAKE_REFRESH_DEBOUNCE_SECONDS = 2
    running = services.pipeline_run_request()
    services.lake_refresh_request()  # a rental while that run may have read past it
    PipelineRun.objects.filter(pk=running.pk).update(
        status=PipelineRun.Status.SUCCEEDED, snapshots={"marts.fact_sales": 1}
    )

    refresh = services.lake_refresh_start()

    assert refresh is not None and refresh.trigger == PipelineRun.Trigger.EVENT


def test_a_refresh_after_a_failed_run_still_runs(queued, settings):
    services.lake_refresh_request()
    failed = services.pipeline_run_request()
    PipelineRun.objects.filter(pk=failed.pk).update(status=PipelineRun.Status.FAILED)

    assert services.lake_refresh_start() is not None


def test_under_glue_desk_refreshes_wait_the_minimum_interval_after_the_last_run(queued, settings):
    # Each Glue run is a whole workflow (two Spark jobs and a crawl).
    settings.LAKE_ENGINE = "glue"
    settings.LAKE_REFRESH_DEBOUNCE_SECONDS = 2
    settings.GLUE_REFRESH_MIN_INTERVAL_MINUTES = 15
    last = PipelineRun.objects.create(engine="glue", status=PipelineRun.Status.SUCCEEDED)
    PipelineRun.objects.filter(pk=last.pk).update(created_at=timezone.now() - timedelta(minutes=5))

    services.lake_refresh_request()

    ((name, _, options),) = queued
    assert name == "lake.tasks.lake_refresh_task"
    assert 9 * 60 < options["countdown"] <= 10 * 60
    # A refresh task that comes early (say, a lost one replaced) waits again.
    with transaction.atomic():
        assert services.lake_refresh_start() is None
    assert 9 * 60 < queued[-1][2]["countdown"] <= 10 * 60
    assert PipelineRun.objects.count() == 1
    # Once the interval has passed, the refresh runs.
    PipelineRun.objects.filter(pk=last.pk).update(created_at=timezone.now() - timedelta(minutes=16))
    assert services.lake_refresh_start().trigger == PipelineRun.Trigger.EVENT


def test_locally_desk_refreshes_only_debounce(queued, settings):
    settings.LAKE_ENGINE = "local"
    settings.LAKE_REFRESH_DEBOUNCE_SECONDS = 2
    PipelineRun.objects.create(status=PipelineRun.Status.SUCCEEDED)
    services.lake_refresh_request()
    assert queued == [("lake.tasks.lake_refresh_task", (), {"countdown": 2})]


def test_a_rental_asks_for_one_refresh_per_transaction(queued, settings, store):
    settings.LAKE_REFRESH_ON_CHANGE = True
    film = FilmFactory()
    InventoryFactory(film=film, store=store)
    staff = StaffFactory(store=store)
    queued.clear()

    rental_services.rental_create(customer=CustomerFactory(), film=film, staff=staff)

    assert [name for name, *_ in queued] == ["lake.tasks.lake_refresh_task"]
    assert PipelineLock.objects.get().refresh_requested_at is not None


def test_a_run_the_queue_cannot_take_fails_at_once(monkeypatch):
    def broker_down(*args, **kwargs):
        raise ConnectionError("Connection refused")

    monkeypatch.setattr(tasks.pipeline_run_task, "delay", broker_down)
    run = services.pipeline_run_request()
    run.refresh_from_db()
    assert run.status == PipelineRun.Status.FAILED
    assert run.error == "Could not reach the task queue: ConnectionError: Connection refused"
    services.pipeline_run_request(full=True)  # not blocked by it


def test_the_reaper_fails_queued_runs_no_worker_took(queued, settings):
    settings.LAKE_RUN_STALE_SECONDS = 60
    fresh = services.pipeline_run_request()
    assert pipeline_runs_reap() == 0
    PipelineRun.objects.filter(pk=fresh.pk).update(
        created_at=fresh.created_at - timedelta(minutes=5)
    )
    assert pipeline_runs_reap() == 1
    fresh.refresh_from_db()
    assert (fresh.status, fresh.error) == (PipelineRun.Status.FAILED, ERROR_NEVER_STARTED)


def test_the_tasks_the_services_send_are_known_to_a_web_process():
    """A process that never imports lake.tasks itself (the web server) still
    finds every task the services send by name."""
    import subprocess
    import sys

    names = ("pipeline_run_task", "pipeline_run_poll_task", "lake_refresh_task")
    code = (
        "import django; django.setup(); from lake import services; "
        f"print([services._task(name).name for name in {names!r}])"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert found.stdout.strip() == str([f"lake.tasks.{name}" for name in names])
