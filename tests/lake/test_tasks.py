"""Runs through a real Celery worker: on the embedded broker, or on Redis when
CELERY_BROKER_URL says so (CI runs the MariaDB suite that way)."""

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.apps import apps
from django.test import Client
from django.urls import reverse

from lake import selectors, services, tasks
from lake.models import PipelineRun, PipelineRunEvent, PipelineStep
from rentals import selectors as rental_selectors
from rentals import services as rental_services
from rentals.generator import generate_sakila
from rentals.models import Customer, Staff
from sakila_site.celery import app
from sakila_site.roles import role_groups_sync
from tests.conftest import database_url
from tests.lake.conftest import lake_query, marts_contents, run_pipeline
from tests.lake.test_incremental import make_desk_changes

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def wait_for(condition: Callable[[], object], timeout: float = 90, what: str = "") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what or condition}")


def finished(run: PipelineRun, timeout: float = 90) -> PipelineRun:
    def done():
        run.refresh_from_db()
        return not run.is_active

    wait_for(done, timeout, f"run {run.pk} to finish")
    return run


@pytest.fixture
def celery_worker(celery_broker) -> Iterator[None]:
    with start_worker(
        app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=60
    ):
        yield


@pytest.fixture
def sakila(lake, role_groups):
    generate_sakila(scale=0.02, seed=11)


@pytest.fixture
def published(sakila_lake):
    """The same data and a first pipeline run (built once per session): the run."""
    run = sakila_lake(scale=0.02, seed=11)
    role_groups_sync(apps)  # the role groups, as ``sakila`` has them
    return run


def trigger(door: str, user) -> PipelineRun:
    """Start an incremental run as ``user`` through the API or the control panel page."""
    client = Client()
    client.force_login(user)
    if door == "api":
        response = client.post("/api/lake/runs/", {"full": False}, content_type="application/json")
        assert response.status_code == 201, response.content
        return PipelineRun.objects.get(pk=response.json()["id"])
    response = client.post(reverse("lake:trigger"), {"mode": "incremental"})
    assert response.status_code == 302
    return PipelineRun.objects.get()


@pytest.mark.parametrize("door", ["api", "page"])
def test_a_triggered_run_succeeds_on_the_worker_with_its_steps(
    sakila, celery_worker, manager, door
):
    run = finished(trigger(door, manager))

    assert run.status == PipelineRun.Status.SUCCEEDED, run.error
    assert run.steps.filter(name="fact_sales", status=PipelineStep.Status.SUCCEEDED).exists()
    assert selectors.published_run() == run
    assert lake_query("select count(*) as n from fact_sales")[0]["n"] > 0
    assert list(run.events.order_by("at", "pk").values_list("action", "user")) == [
        (PipelineRunEvent.Action.TRIGGERED, manager.pk),
        (PipelineRunEvent.Action.STARTED, None),
        (PipelineRunEvent.Action.SUCCEEDED, None),
    ]


def test_a_second_trigger_is_refused_while_a_run_is_active(sakila, celery_worker, settings):
    settings.LAKE_FAULT_INJECTION = "extract:sleep=2"
    first = services.pipeline_run_request()

    with pytest.raises(services.AlreadyRunning) as refused:
        services.pipeline_run_request(full=True)

    assert refused.value.run == first
    assert f"Run {first.pk} is already running" in str(refused.value)
    assert finished(first).status == PipelineRun.Status.SUCCEEDED
    assert PipelineRun.objects.count() == 1


def test_cancelling_a_running_run_publishes_nothing(published, celery_worker, settings, manager):
    make_desk_changes()
    before = marts_contents()
    settings.LAKE_FAULT_INJECTION = "stage rental:sleep=2"
    run = services.pipeline_run_request()
    wait_for(lambda: run.steps.filter(name="stage rental").exists(), what="stage rental")

    services.pipeline_run_cancel(run=run, user=manager)

    assert finished(run).status == PipelineRun.Status.CANCELLED
    assert run.cancel_requested_by == manager
    assert run.steps.filter(status=PipelineStep.Status.SKIPPED).exists()
    assert selectors.published_run() == published and marts_contents() == before
    actions = set(run.events.values_list("action", flat=True))
    assert {PipelineRunEvent.Action.CANCEL_REQUESTED, PipelineRunEvent.Action.CANCELLED} <= actions

    settings.LAKE_FAULT_INJECTION = ""
    retry = finished(services.pipeline_run_retry(run=run, user=manager))
    assert retry.status == PipelineRun.Status.SUCCEEDED and retry.retry_of == run
    assert marts_contents() != before


def test_a_worker_killed_mid_run_is_reaped_and_the_next_run_catches_up(
    published, celery_broker, settings
):
    make_desk_changes()
    env = {
        **os.environ,
        **celery_broker,
        "DATABASE_URL": database_url(),
        "LAKE_WAREHOUSE": settings.LAKE_WAREHOUSE,
        "LAKE_CATALOG_URI": settings.LAKE_CATALOG_URI,
        "LAKE_FAULT_INJECTION": "stage payment:kill",
        "LAKE_REFRESH_ON_CHANGE": "false",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "sakila_site", "worker", "--pool", "threads",
         "--concurrency", "2", "--loglevel", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        killed = services.pipeline_run_request()
        assert worker.wait(timeout=120) == -9, worker.stdout.read()
    finally:
        worker.kill()
    killed.refresh_from_db()
    assert killed.status == PipelineRun.Status.RUNNING  # as the dead worker left it

    assert tasks.pipeline_runs_reap_task() == 1

    killed.refresh_from_db()
    assert killed.status == PipelineRun.Status.FAILED
    assert "stopped (killed or crashed) during stage payment" in killed.error
    with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False):
        caught_up = finished(services.pipeline_run_request())
    assert caught_up.status == PipelineRun.Status.SUCCEEDED, caught_up.error
    incremental = marts_contents()
    run_pipeline(full=True)
    assert incremental == marts_contents()


def test_desk_activity_refreshes_the_lake_once_per_burst(published, celery_worker, settings):
    settings.LAKE_REFRESH_ON_CHANGE = True
    settings.LAKE_REFRESH_DEBOUNCE_SECONDS = 3
    staff = Staff.objects.order_by("pk").first()
    rentals = []
    for customer in Customer.objects.filter(active=True).order_by("pk")[:10]:
        film = rental_selectors.film_available_list(store=staff.store).first()
        rentals.append(rental_services.rental_create(customer=customer, film=film, staff=staff))
    ids = ", ".join(str(rental.pk) for rental in rentals)

    wait_for(
        lambda: (
            lake_query(f"select count(*) as n from fact_sales where rental_id in ({ids})")[0]["n"]
            == len(rentals)
        ),
        what="the new rentals in fact_sales",
    )

    event_runs = PipelineRun.objects.filter(trigger=PipelineRun.Trigger.EVENT)
    assert event_runs.count() == 1
    assert event_runs.get().status == PipelineRun.Status.SUCCEEDED


def test_scheduled_runs_are_skipped_while_one_is_active(sakila):
    active = PipelineRun.objects.create(status=PipelineRun.Status.RUNNING)
    tasks.pipeline_run_scheduled_task(full=True)
    assert list(PipelineRun.objects.all()) == [active]
