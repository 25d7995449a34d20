"""Worker liveness: the worker's heartbeat bootstep, its row, and whether a worker is alive."""

import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from celery.utils.timer2 import Timer
from django.utils import timezone

from lake import selectors, services
from lake.heartbeat import WorkerHeartbeatStep
from lake.models import WorkerHeartbeat
from sakila_site.celery import app


def test_no_heartbeat_means_no_worker(db):
    assert selectors.worker_status() == selectors.WorkerStatus(alive=False, last_seen=None)


def test_a_recent_heartbeat_means_a_worker_is_alive(db, settings):
    settings.LAKE_WORKER_ALIVE_SECONDS = 30
    services.worker_heartbeat_record(hostname="celery@a", pid=10)
    status = selectors.worker_status()
    assert status.alive and status.last_seen is not None


def test_a_heartbeat_older_than_the_limit_means_none_is(db, settings):
    settings.LAKE_WORKER_ALIVE_SECONDS = 30
    services.worker_heartbeat_record(hostname="celery@a", pid=10)
    long_ago = timezone.now() - timedelta(seconds=31)
    WorkerHeartbeat.objects.update(last_seen=long_ago)
    assert selectors.worker_status() == selectors.WorkerStatus(alive=False, last_seen=long_ago)
    services.worker_heartbeat_record(hostname="celery@b", pid=11)  # another worker
    assert selectors.worker_status().alive


def test_eager_tasks_need_no_worker(db, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    assert selectors.worker_status().alive


def test_a_restarted_worker_starts_its_row_afresh(db):
    services.worker_heartbeat_record(hostname="celery@a", pid=10)
    first = WorkerHeartbeat.objects.get()
    services.worker_heartbeat_record(hostname="celery@a", pid=10)
    again = WorkerHeartbeat.objects.get()
    assert again.started_at == first.started_at and again.last_seen >= first.last_seen
    services.worker_heartbeat_record(hostname="celery@a", pid=20)  # a new process, same name
    restarted = WorkerHeartbeat.objects.get()
    assert restarted.pid == 20 and restarted.started_at >= again.last_seen


def test_a_worker_stopping_cleanly_removes_its_row_only(db):
    services.worker_heartbeat_record(hostname="celery@a", pid=10)
    services.worker_heartbeat_end(hostname="celery@a", pid=99)  # an older process: not this row
    assert WorkerHeartbeat.objects.count() == 1
    services.worker_heartbeat_end(hostname="celery@a", pid=10)
    assert not WorkerHeartbeat.objects.exists()


def test_every_worker_of_the_app_beats():
    assert WorkerHeartbeatStep in app.steps["worker"]


@pytest.mark.django_db(transaction=True)  # the timer's thread has its own connection
def test_the_bootstep_beats_from_the_workers_timer_and_ends_with_it(settings):
    settings.LAKE_WORKER_ALIVE_SECONDS = 3  # a beat every second
    timer = Timer()
    worker = SimpleNamespace(hostname="celery@step", timer=timer)
    step = WorkerHeartbeatStep(worker)
    try:
        step.start(worker)
        first = WorkerHeartbeat.objects.get(hostname="celery@step")
        assert first.started_at == first.last_seen  # at once, before the first interval

        deadline = time.monotonic() + 10
        while WorkerHeartbeat.objects.get().last_seen == first.last_seen:
            assert time.monotonic() < deadline, "no second beat"
            time.sleep(0.1)
        assert selectors.worker_status().alive
    finally:
        step.stop(worker)
        timer.stop()
    assert not WorkerHeartbeat.objects.exists()


def test_a_failed_beat_is_logged_not_raised(db, monkeypatch, caplog):
    def unavailable(**kwargs):
        raise RuntimeError("database is away")

    monkeypatch.setattr(services, "worker_heartbeat_record", unavailable)
    timer = SimpleNamespace(call_repeatedly=lambda *args, **kwargs: None)
    worker = SimpleNamespace(hostname="celery@x", timer=timer)
    WorkerHeartbeatStep(worker).start(worker)  # would stop the worker if it raised
    assert "could not record the worker's heartbeat" in caplog.text
