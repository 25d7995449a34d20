"""The lake control panel (/lake/), as managers use it and clerks cannot."""

import re
from datetime import datetime, timedelta

import pytest
from botocore.stub import Stubber
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from lake import selectors, services, tasks
from lake.aws.clients import aws_client
from lake.models import PipelineRun, PipelineRunEvent, PipelineStep, Watermark, WorkerHeartbeat
from lake.panel import pictures, views
from lake.panel.forms import ERROR_DATE_RANGE
from lake.panel.schedules import schedule_list
from rentals.models import Rental
from sakila_site.roles import MANAGER
from tests.conftest import make_role_user
from tests.lake.conftest import run_pipeline
from tests.lake.engines.test_glue import expect_poll, expect_resume, workflow_run

pytestmark = pytest.mark.django_db

Status = PipelineRun.Status
Trigger = PipelineRun.Trigger

PAGES = [
    reverse("lake:runs"),
    reverse("lake:freshness"),
    reverse("lake:schedules"),
    reverse("lake:audit"),
    reverse("lake:catalog"),
]


@pytest.fixture
def panel(client, manager, lake) -> Client:
    client.force_login(manager)
    return client


def page(response) -> str:
    return response.content.decode()


def text(response) -> str:
    """The page with its whitespace (no-break spaces too) made single spaces."""
    return " ".join(page(response).split())


def make_run(
    status: str = Status.SUCCEEDED,
    *,
    trigger: str = Trigger.MANUAL,
    created_at: datetime | None = None,
    seconds: float = 12.0,
    steps: tuple[tuple[str, int], ...] = (("extract", 120), ("stage rental", 30), ("crawl", 2)),
    **fields,
) -> PipelineRun:
    created_at = created_at or timezone.now() - timedelta(minutes=5)
    started = None if status == Status.QUEUED else created_at + timedelta(seconds=1)
    finished = (
        started + timedelta(seconds=seconds)
        if started and status not in PipelineRun.ACTIVE
        else None
    )
    run = PipelineRun.objects.create(
        status=status,
        trigger=trigger,
        created_at=created_at,
        started_at=started,
        finished_at=finished,
        **fields,
    )
    if started:
        for position, (name, rows) in enumerate(steps):
            PipelineStep.objects.create(
                run=run,
                name=name,
                position=position,
                status=PipelineStep.Status.SUCCEEDED,
                started_at=started + timedelta(seconds=position),
                finished_at=started + timedelta(seconds=position + 1),
                rows=rows,
            )
    return run


def make_glue_run_failed_at_marts(**fields) -> PipelineRun:
    """A failed Glue run as its polls left it: extract succeeded, marts failed, crawl not run."""
    run = make_run(Status.FAILED, engine="glue", glue_run_id="wr_failed01", steps=(), **fields)
    for position, (name, status) in enumerate(
        [("extract", "succeeded"), ("marts", "failed"), ("crawl", "skipped")]
    ):
        PipelineStep.objects.create(run=run, name=name, position=position, status=status)
    return run


# --- Who may see what ----------------------------------------------------------------------


@pytest.mark.parametrize("url", [*PAGES, "/lake/runs/1/", "/lake/runs/1/live/"])
def test_anonymous_users_are_sent_to_the_login_page(client, url):
    make_run()
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_live_part_polled_after_logout_reloads_its_page(client):
    run = make_run(Status.RUNNING)
    response = client.get(reverse("lake:run-live", args=[run.pk]), headers={"HX-Request": "true"})
    assert response.status_code == 200 and response["HX-Refresh"] == "true"


@pytest.mark.parametrize("url", [*PAGES, "/lake/runs/1/", "/lake/runs/1/live/"])
def test_clerks_cannot_see_the_panel(client, clerk, url):
    make_run()
    client.force_login(clerk)
    assert client.get(url).status_code == 403


def test_clerks_cannot_trigger_cancel_retry_or_toggle(client, clerk):
    queued = make_run(Status.QUEUED)
    failed = make_run(Status.FAILED)
    task = PeriodicTask.objects.first()
    client.force_login(clerk)
    assert client.post(reverse("lake:trigger"), {"mode": "full"}).status_code == 403
    assert client.post(reverse("lake:run-cancel", args=[queued.pk])).status_code == 403
    assert client.post(reverse("lake:run-retry", args=[failed.pk])).status_code == 403
    glue_failed = make_glue_run_failed_at_marts()
    assert client.post(reverse("lake:run-resume", args=[glue_failed.pk])).status_code == 403
    toggle = reverse("lake:schedule-toggle", args=[task.pk])
    assert client.post(toggle, {"enabled": "false"}).status_code == 403
    assert PipelineRun.objects.count() == 3
    queued.refresh_from_db()
    assert queued.status == Status.QUEUED
    task.refresh_from_db()
    assert task.enabled


def test_a_user_who_may_only_watch_sees_no_buttons(client, django_user_model, lake):
    from django.contrib.auth.models import Permission

    watcher = django_user_model.objects.create_user("watcher", password="x")
    watcher.user_permissions.add(Permission.objects.get(codename="view_pipelinerun"))
    client.force_login(watcher)
    failed = make_run(Status.FAILED)

    runs = page(client.get(reverse("lake:runs")))
    assert "Run now" not in runs and "You may watch runs but not start them" in runs
    assert "Retry run" not in page(client.get(reverse("lake:run", args=[failed.pk])))
    glue_failed = make_glue_run_failed_at_marts()
    assert "Resume from" not in page(client.get(reverse("lake:run", args=[glue_failed.pk])))
    assert client.post(reverse("lake:trigger"), {"mode": "full"}).status_code == 403
    # Schedules are periodic tasks: their own view permission.
    assert client.get(reverse("lake:schedules")).status_code == 403
    assert "Schedules" not in runs


# --- Runs list -----------------------------------------------------------------------------


def test_the_runs_page_when_the_lake_never_ran(panel):
    response = panel.get(reverse("lake:runs"))
    assert response.status_code == 200
    assert "The lake has never run" in page(response)
    assert "Run now" in page(response)
    assert "<svg" not in page(response)


def test_the_runs_page_lists_runs_with_their_rows_and_a_duration_trend(panel, manager):
    make_run(Status.SUCCEEDED, full=True, requested_by=manager)
    failed = make_run(Status.FAILED, trigger=Trigger.SCHEDULE, seconds=30)
    response = panel.get(reverse("lake:runs"))
    html = page(response)
    assert response.status_code == 200
    assert f'href="/lake/runs/{failed.pk}/"' in html
    assert "<td>manager</td>" in html
    # Rows read are the extract step's, rows written those of stage and mart steps.
    assert ">120<" in html and ">30<" in html
    assert "12.0 s" in html and "30.0 s" in html
    chart = response.context["chart"]  # drawn by ECharts from its spec
    assert chart.option["legend"]["data"] == ["failed", "succeeded"]
    assert "Duration of the last 2 runs" in html and f'id="{chart.spec_id}"' in html
    assert "<td>30 s</td>" in html  # the chart's data table


def test_filters_are_kept_in_the_url_and_filter(panel):
    old = make_run(Status.FAILED, created_at=datetime(2025, 1, 10, 9, 0))
    new_failed = make_run(Status.FAILED, trigger=Trigger.API, created_at=datetime(2025, 2, 3, 9))
    new_ok = make_run(Status.SUCCEEDED, created_at=datetime(2025, 2, 3, 10))

    def listed(query: str) -> set[int]:
        html = page(panel.get(reverse("lake:runs") + query))
        return {int(pk) for pk in re.findall(r'<td><a href="/lake/runs/(\d+)/">', html)}

    assert listed("") == {old.pk, new_failed.pk, new_ok.pk}
    assert listed("?status=failed") == {old.pk, new_failed.pk}
    assert listed("?trigger=api") == {new_failed.pk}
    assert listed("?date_from=2025-02-01&date_to=2025-02-03") == {new_failed.pk, new_ok.pk}
    assert listed("?date_to=2025-01-10") == {old.pk}
    assert listed("?status=failed&date_from=2025-02-03") == {new_failed.pk}
    # The form shows the filters it applies.
    html = page(panel.get(reverse("lake:runs") + "?status=failed&trigger=api"))
    assert '<option value="failed" selected>' in html
    assert '<option value="api" selected>' in html


def test_bad_filters_are_reported_not_applied(panel):
    make_run()
    response = panel.get(reverse("lake:runs") + "?status=sleeping&date_from=yesterday")
    assert response.status_code == 400
    html = page(response)
    assert "Select a valid choice" in html and "Enter a valid date" in html
    response = panel.get(reverse("lake:runs") + "?date_from=2025-02-03&date_to=2025-02-01")
    assert response.status_code == 400
    assert ERROR_DATE_RANGE in page(response)


def test_pages_of_runs_keep_the_filters(panel):
    for _ in range(views.RUNS_PER_PAGE + 2):
        make_run(Status.FAILED)
    html = page(panel.get(reverse("lake:runs") + "?status=failed"))
    assert "Page 1 of 2" in html
    assert 'href="?status=failed&amp;page=2"' in html
    second = page(panel.get(reverse("lake:runs") + "?status=failed&page=2"))
    assert "Page 2 of 2" in second
    assert len(re.findall(r'<td><a href="/lake/runs/', second)) == 2
    assert panel.get(reverse("lake:runs") + "?page=nonsense").status_code == 200


def test_the_runs_list_costs_the_same_queries_for_more_runs(panel, django_assert_max_num_queries):
    for _ in range(3):
        make_run()
    with django_assert_max_num_queries(12) as few:
        panel.get(reverse("lake:runs"))
    for _ in range(20):
        make_run()
    with django_assert_max_num_queries(len(few.captured_queries)):
        panel.get(reverse("lake:runs"))


def test_the_runs_list_polls_while_a_run_is_active(panel, worker_alive):
    make_run()
    assert 'hx-trigger="every 2s"' not in page(panel.get(reverse("lake:runs")))
    active = make_run(Status.RUNNING)
    html = page(panel.get(reverse("lake:runs")))
    assert 'hx-trigger="every 2s"' in html
    assert f'<a href="/lake/runs/{active.pk}/">Run {active.pk}</a> has been running since' in html
    fragment = panel.get(reverse("lake:runs"), headers={"HX-Request": "true"})
    assert "<html" not in page(fragment) and 'id="runs-live"' in page(fragment)


def test_the_runs_list_says_when_no_worker_is_running(panel, settings):
    settings.LAKE_RUN_STALE_SECONDS = 600
    response = panel.get(reverse("lake:runs"))
    assert "No worker is running: runs will wait." in text(response)
    assert "one that no worker takes within 10 minutes is marked failed" in text(response)
    # It polls, so the banner goes as soon as a worker is back.
    assert 'hx-trigger="every 2s"' in page(response)
    services.worker_heartbeat_record(hostname="celery@back", pid=1)
    fragment = page(panel.get(reverse("lake:runs"), headers={"HX-Request": "true"}))
    assert "No worker is running" not in fragment and "hx-trigger" not in fragment


def test_a_queued_runs_page_says_when_the_worker_has_gone_silent(panel, settings):
    settings.LAKE_WORKER_ALIVE_SECONDS = 30
    services.worker_heartbeat_record(hostname="celery@gone", pid=1)
    last_seen = timezone.now() - timedelta(seconds=31)
    WorkerHeartbeat.objects.update(last_seen=last_seen)
    run = make_run(Status.QUEUED)
    html = text(panel.get(reverse("lake:run", args=[run.pk])))
    assert "No worker is running: runs will wait." in html
    assert f"A worker was last heard from at {last_seen:%Y-%m-%d %H:%M:%S}." in html
    services.worker_heartbeat_record(hostname="celery@gone", pid=2)  # restarted
    live = text(panel.get(reverse("lake:run-live", args=[run.pk])))
    assert "Queued: waiting for a worker" in live and "No worker is running" not in live


# --- Trigger, cancel, retry ----------------------------------------------------------------


def test_trigger_queues_a_run_for_the_manager(panel, manager):
    response = panel.post(reverse("lake:trigger"), {"mode": "incremental"})
    run = PipelineRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("lake:run", args=[run.pk])
    assert run.status == Status.QUEUED
    assert run.trigger == Trigger.MANUAL
    assert run.requested_by == manager
    assert run.full  # the first run always builds everything
    event = run.events.get()
    assert (event.action, event.user) == (PipelineRunEvent.Action.TRIGGERED, manager)
    run_page = page(panel.get(response["Location"]))
    assert f"You started run {run.pk} (full)." in run_page and "queued" in run_page


def test_a_second_trigger_while_a_run_is_active_says_already_running(panel):
    active = make_run(Status.RUNNING)
    response = panel.post(reverse("lake:trigger"), {"mode": "full"}, follow=True)
    html = page(response)
    assert "is already running" in html
    assert f'<a href="/lake/runs/{active.pk}/">Watch run {active.pk}</a>' in html
    assert PipelineRun.objects.count() == 1


def test_trigger_needs_a_valid_mode_and_a_post(panel):
    response = panel.post(reverse("lake:trigger"), {"mode": "everything"}, follow=True)
    assert "Choose an incremental or a full run" in page(response)
    assert panel.get(reverse("lake:trigger")).status_code == 405
    assert not PipelineRun.objects.exists()


def test_cancel_a_queued_run(panel, manager):
    run = make_run(Status.QUEUED)
    response = panel.post(reverse("lake:run-cancel", args=[run.pk]), follow=True)
    run.refresh_from_db()
    assert run.status == Status.CANCELLED
    assert run.cancel_requested_by == manager
    assert f"Run {run.pk} cancelled." in page(response)
    actions = set(run.events.filter(user=manager).values_list("action", flat=True))
    assert actions == {"cancel requested", "cancelled"}
    # The audit names who did it.
    audit = page(panel.get(reverse("lake:audit") + "?action=cancel+requested"))
    assert "<strong>manager</strong>" in audit and f"run {run.pk}" in audit


def test_cancel_a_running_run_asks_it_to_stop(panel, manager):
    run = make_run(Status.RUNNING)
    response = panel.post(reverse("lake:run-cancel", args=[run.pk]), follow=True)
    run.refresh_from_db()
    assert run.status == Status.RUNNING and run.cancel_requested_by == manager
    assert "stops at its next step" in page(response)
    assert "Cancelling…" in page(response)


def test_a_finished_run_cannot_be_cancelled(panel):
    run = make_run(Status.SUCCEEDED)
    response = panel.post(reverse("lake:run-cancel", args=[run.pk]), follow=True)
    assert services.ERROR_NOT_ACTIVE.format(run_id=run.pk, status="succeeded") in page(response)
    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED


def test_retry_a_failed_run(panel, manager):
    failed = make_run(Status.FAILED, full=True)
    response = panel.post(reverse("lake:run-retry", args=[failed.pk]))
    retry = PipelineRun.objects.exclude(pk=failed.pk).get()
    assert response["Location"] == reverse("lake:run", args=[retry.pk])
    assert retry.retry_of == failed and retry.status == Status.QUEUED and retry.full
    assert failed.events.get(action="retried").user == manager
    html = page(panel.get(reverse("lake:run", args=[failed.pk])))
    assert f'<a href="/lake/runs/{retry.pk}/">run {retry.pk}</a> <span' in html
    retry_page = page(panel.get(reverse("lake:run", args=[retry.pk])))
    assert f'retry of <a href="/lake/runs/{failed.pk}/">run {failed.pk}</a>' in retry_page


def test_a_succeeded_run_cannot_be_retried(panel):
    run = make_run(Status.SUCCEEDED)
    response = panel.post(reverse("lake:run-retry", args=[run.pk]), follow=True)
    assert services.ERROR_NOT_RETRYABLE.format(run_id=run.pk, status="succeeded") in page(response)
    assert PipelineRun.objects.count() == 1


def test_resume_is_offered_for_failed_glue_runs_only(panel):
    glue_failed = make_glue_run_failed_at_marts()
    html = page(panel.get(reverse("lake:run", args=[glue_failed.pk])))
    action = f'<form method="post" action="/lake/runs/{glue_failed.pk}/resume/">'
    form = re.search(re.escape(action) + "(.*?)</form>", html, re.S)
    assert form and "csrfmiddlewaretoken" in form[1] and ">Resume from marts</button>" in form[1]
    assert "Retry run" in html
    for run in (
        make_run(Status.FAILED),  # the local engine cannot resume
        make_run(Status.SUCCEEDED, engine="glue", glue_run_id="wr_done"),
        make_run(Status.FAILED, engine="glue"),  # never started on Glue
    ):
        html = page(panel.get(reverse("lake:run", args=[run.pk])))
        assert "Resume from" not in html and "/resume/" not in html
    # Not once a later run has published (the succeeded one above): resuming would roll
    # its watermarks back.
    html = page(panel.get(reverse("lake:run", args=[glue_failed.pk])))
    assert "Resume from" not in html and "Retry run" in html


def test_resume_a_failed_glue_run_goes_to_the_resumed_run(panel, manager, aws, monkeypatch):
    monkeypatch.setattr(tasks.pipeline_run_poll_task, "apply_async", lambda *a, **kw: None)
    failed = make_glue_run_failed_at_marts()
    with Stubber(aws_client("glue")) as stub:
        expect_poll(stub, failed, workflow_run(failed, "COMPLETED", extract="SUCCEEDED",
                                               marts="FAILED"))  # fmt: skip
        expect_resume(stub, failed, ["wnode_marts"], "wr_resumed01")
        response = panel.post(reverse("lake:run-resume", args=[failed.pk]))
        stub.assert_no_pending_responses()

    resumed = PipelineRun.objects.get(retry_of=failed)
    assert response["Location"] == reverse("lake:run", args=[resumed.pk])
    assert (resumed.status, resumed.glue_run_id) == (Status.RUNNING, "wr_resumed01")
    assert resumed.requested_by == manager and resumed.trigger == Trigger.MANUAL
    html = text(panel.get(response["Location"]))
    assert f"Run {failed.pk} resumed as run {resumed.pk}." in html
    assert f'resuming <a href="/lake/runs/{failed.pk}/">run {failed.pk}</a>' in html
    assert "Glue run wr_resumed01" in html
    assert 'hx-trigger="every 1s"' in html  # the live timeline
    failed_page = text(panel.get(reverse("lake:run", args=[failed.pk])))
    assert f"Resumed as run {resumed.pk} from marts." in failed_page
    assert f'<a href="/lake/runs/{resumed.pk}/">run {resumed.pk}</a> (resumed)' in failed_page
    runs = text(panel.get(reverse("lake:runs")))
    assert f"resuming {failed.pk}" in runs


def test_a_resume_glue_refuses_shows_the_failed_new_run_with_the_reason(panel, aws):
    failed = make_glue_run_failed_at_marts()
    with Stubber(aws_client("glue")) as stub:
        expect_poll(stub, failed, workflow_run(failed, "COMPLETED", extract="SUCCEEDED",
                                               marts="FAILED"))  # fmt: skip
        stub.add_client_error(
            "resume_workflow_run", "AccessDeniedException", "not authorized", http_status_code=400
        )
        response = panel.post(reverse("lake:run-resume", args=[failed.pk]), follow=True)

    resumed = PipelineRun.objects.get(retry_of=failed)
    assert response.redirect_chain[-1][0] == reverse("lake:run", args=[resumed.pk])
    assert resumed.status == Status.FAILED
    html = text(response)
    assert f"Run {resumed.pk} could not resume run {failed.pk}: Glue: AccessDeniedException" in html
    assert 'hx-trigger="every 1s"' not in html


def test_a_run_that_cannot_be_resumed_says_why(panel):
    failed = make_run(Status.FAILED)
    response = panel.post(reverse("lake:run-resume", args=[failed.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("lake:run", args=[failed.pk])
    message = services.ERROR_RESUME_ENGINE.format(run_id=failed.pk, engine="local")
    assert message in page(response)
    assert PipelineRun.objects.count() == 1
    assert panel.get(reverse("lake:run-resume", args=[failed.pk])).status_code == 405


def test_unknown_runs_are_not_found(panel):
    assert panel.get("/lake/runs/999/").status_code == 404
    assert panel.post("/lake/runs/999/cancel/").status_code == 404
    assert panel.get("/lake/runs/99999999999/").status_code == 404


# --- Run detail and its live part ----------------------------------------------------------


def test_the_run_page_shows_header_steps_watermarks_snapshots_and_audit(panel, manager):
    run = make_run(
        Status.FAILED,
        requested_by=manager,
        error="InjectedFault: fault injected at fact_sales",
        watermarks_from={"rental": "2025-02-01 10:00:00.123456"},
    )
    PipelineStep.objects.create(
        run=run,
        name="fact_sales",
        position=9,
        status=PipelineStep.Status.FAILED,
        started_at=run.started_at,
        finished_at=run.finished_at,
        error="InjectedFault: boom",
        log="Traceback (most recent call last):\n  ...",
    )
    PipelineRunEvent.objects.create(run=run, action="triggered", user=manager, message="By hand.")
    html = page(panel.get(reverse("lake:run", args=[run.pk])))
    assert 'class="badge big status-failed">failed<' in html
    assert "requested by <strong>manager</strong>" in html
    assert "InjectedFault: fault injected at fact_sales" in html
    assert "stage rental" in html and "fact_sales" in html and "InjectedFault: boom" in html
    assert "Traceback (most recent call last)" in html
    assert html.count('class="track"') == 4  # extract, stage rental, crawl, fact_sales
    assert "2025-02-01 10:00:00" in html
    assert "By hand." in html
    assert "Retry run" in html and "Cancel run" not in html


def test_the_published_snapshots_link_to_the_catalog(panel):
    run = make_run(snapshots={"marts.fact_sales": 42, "staging.rental": 7})
    html = page(panel.get(reverse("lake:run", args=[run.pk])))
    assert 'href="/lake/catalog/marts/fact_sales/"' in html
    assert 'href="/lake/catalog/staging/rental/"' in html


def test_the_live_part_polls_while_the_run_is_active_and_stops_when_it_ends(panel):
    run = make_run(Status.RUNNING)
    live = reverse("lake:run-live", args=[run.pk])
    html = page(panel.get(reverse("lake:run", args=[run.pk])))
    assert f'hx-get="{live}" hx-trigger="every 1s"' in html
    # Cancel is on the page but outside the part that refreshes: it keeps its focus.
    progress = html[html.index('<div id="run-progress"') :]
    assert "Cancel run" in html and "Cancel run" not in progress
    fragment = page(panel.get(live, headers={"HX-Request": "true"}))
    assert "<html" not in fragment
    assert 'hx-trigger="every 1s"' in fragment and "Cancel run" not in fragment
    assert '<span id="run-status" class="badge big status-running" hx-swap-oob="true">' in fragment

    PipelineStep.objects.create(
        run=run, name="fact_sales", position=5, status="succeeded", rows=16044
    )
    run.status, run.finished_at = Status.SUCCEEDED, timezone.now()
    run.save()
    fragment = page(panel.get(live, headers={"HX-Request": "true"}))
    assert 'id="run-progress"' in fragment
    assert "hx-trigger" not in fragment and "hx-get" not in fragment
    assert "16,044" in fragment and "succeeded" in fragment
    # Once ended, the buttons are replaced too: Cancel is gone.
    assert '<div class="actions" id="run-actions" hx-swap-oob="true">' in fragment
    assert "Cancel run" not in fragment


def test_a_queued_run_says_it_waits_for_a_worker(panel):
    run = make_run(Status.QUEUED)
    html = page(panel.get(reverse("lake:run", args=[run.pk])))
    assert "waiting for a worker" in html and "Cancel run" in html


def test_step_timeline_places_steps_on_the_run_time_axis():
    start = datetime(2025, 1, 1, 10, 0, 0)
    run = PipelineRun(started_at=start, finished_at=start + timedelta(seconds=10))
    steps = [
        PipelineStep(name="a", started_at=start, finished_at=start + timedelta(seconds=5)),
        PipelineStep(name="b", started_at=start + timedelta(seconds=5), finished_at=None),
        PipelineStep(name="c"),
    ]
    rows = pictures.step_timeline(run, steps, now=start + timedelta(seconds=10))
    assert [(row.left, row.width) for row in rows] == [(0, 50), (50, 50), (0, 0)]


def test_duration_chart_is_an_echarts_spec_by_status():
    start = datetime(2025, 1, 1, 10)
    runs = [
        PipelineRun(pk=i, status=status, started_at=start, finished_at=start + timedelta(seconds=s))
        for i, (status, s) in enumerate([("succeeded", 3), ("failed", 7.5), ("succeeded", 1)], 1)
    ]
    chart = pictures.duration_chart(runs)
    option = chart.option
    assert option["xAxis"]["data"] == ["1", "2", "3"]
    assert option["legend"]["data"] == ["failed", "succeeded"]
    failed, succeeded = option["series"]
    assert [point and point["value"] for point in failed["data"]] == [None, 7.5, None]
    assert [point and point["value"] for point in succeeded["data"]] == [3.0, None, 1.0]
    assert succeeded["data"][0]["url"] == reverse("lake:run", args=[1])
    assert option["yAxis"]["format"] == "seconds"
    assert chart.rows == [["1", "", "3 s"], ["2", "7.5 s", ""], ["3", "", "1 s"]]
    assert "highest 2 (7.5 s)" in chart.alt
    assert pictures.duration_chart([]) is None
    assert pictures._seconds_label(600) == "10 min"


def test_the_duration_chart_follows_the_lists_filters(panel):
    for status in (Status.SUCCEEDED, Status.FAILED, Status.SUCCEEDED):
        make_run(status, seconds=5)
    chart = panel.get(reverse("lake:runs")).context["chart"]
    assert len(chart.rows) == 3
    chart = panel.get(reverse("lake:runs"), {"status": "failed"}).context["chart"]
    assert chart.option["legend"]["data"] == ["failed"] and len(chart.rows) == 1
    html = page(panel.get(reverse("lake:runs"), {"status": "failed"}))
    assert 'data-echart="' in html and "echarts.min.js" in html and 'role="img"' in html


# --- Freshness -----------------------------------------------------------------------------


def test_freshness_when_the_lake_never_ran(panel):
    html = page(panel.get(reverse("lake:freshness")))
    assert "The lake has no data yet" in html
    assert "Run now" in html
    assert "No watermark yet" in html


def test_freshness_warns_about_tables_older_than_the_sla(panel, settings):
    settings.LAKE_FRESHNESS_SLA_MINUTES = 90
    long_ago = timezone.now() - timedelta(hours=3, minutes=5)
    run = make_run(
        Status.SUCCEEDED,
        created_at=long_ago - timedelta(seconds=5),
        snapshots={"marts.fact_sales": 1, "staging.rental": 2},
    )
    Watermark.objects.create(table="rental", value=long_ago, run=run)
    failed = make_run(Status.FAILED, error="OperationalError: the database went away")

    html = text(panel.get(reverse("lake:freshness")))
    assert (
        "<strong>fact_sales</strong>, <strong>rental</strong> are 3 hours, 5 minutes stale" in html
    )
    assert "3 hours, 5 minutes stale</span>" in html  # the table's row
    assert "and 19 more tables are not published yet" in html
    assert f"run {failed.pk}</a>, failed: OperationalError: the database went away" in html
    assert "24 of 24 tables are stale" in html


def test_freshness_within_the_sla(panel, settings):
    settings.LAKE_FRESHNESS_SLA_MINUTES = 90
    recent = timezone.now() - timedelta(minutes=10)
    snapshots = {identifier: 1 for identifier in selectors.lake_table_identifiers()}
    run = make_run(Status.SUCCEEDED, created_at=recent - timedelta(seconds=5), snapshots=snapshots)
    for table in ("rental", "payment", "film"):
        Watermark.objects.create(table=table, value=recent, run=run)
    html = page(panel.get(reverse("lake:freshness")))
    assert "tables are within the service level" in html
    assert "stale</span>" not in html
    assert f'<a href="/lake/runs/{run.pk}/">run {run.pk}</a>' in html


# --- Schedules -----------------------------------------------------------------------------


def test_schedules_list_the_migration_schedules_with_their_next_run(panel):
    html = page(panel.get(reverse("lake:schedules")))
    assert "Nightly full lake run" in html and "Hourly incremental lake run" in html
    assert "daily at 02:00" in html and "every minute" in html
    assert "Edit in admin" in html
    assert 'role="switch"' in html


def test_next_run_times_follow_the_schedule():
    every_minute = IntervalSchedule.objects.create(every=60, period="seconds")
    nightly = CrontabSchedule.objects.create(minute="0", hour="2")
    PeriodicTask.objects.all().delete()
    PeriodicTask.objects.create(name="reap", task="t", interval=every_minute)
    PeriodicTask.objects.create(name="nightly", task="t", crontab=nightly)
    PeriodicTask.objects.create(name="off", task="t", crontab=nightly, enabled=False)
    now = datetime(2025, 3, 4, 10, 30, 15)
    schedules = {s.task.name: s for s in schedule_list(now=now)}
    assert schedules["nightly"].next_run_at == datetime(2025, 3, 5, 2, 0)
    assert schedules["nightly"].description == "daily at 02:00"
    assert schedules["reap"].next_run_at == now + timedelta(seconds=60)
    assert schedules["off"].next_run_at is None


def test_toggle_a_schedule_off_and_on(panel, manager):
    task = PeriodicTask.objects.get(name="Nightly full lake run")
    toggle = reverse("lake:schedule-toggle", args=[task.pk])
    response = panel.post(toggle, {"enabled": "false"}, follow=True)
    task.refresh_from_db()
    assert not task.enabled
    assert "“Nightly full lake run” is off." in page(response)
    assert LogEntry.objects.filter(user=manager, object_id=str(task.pk)).exists()

    panel.post(toggle, {"enabled": "true"})
    task.refresh_from_db()
    assert task.enabled

    response = panel.post(toggle, {"enabled": "maybe"}, follow=True)
    assert "Choose on or off" in page(response)
    assert panel.post("/lake/schedules/99999/toggle/", {"enabled": "true"}).status_code == 404


def test_schedules_empty_state(panel):
    PeriodicTask.objects.all().delete()
    assert "No schedule" in page(panel.get(reverse("lake:schedules")))


# --- Audit ---------------------------------------------------------------------------------


def test_the_audit_filters_by_action_and_user_in_the_url(panel, manager, clerk):
    run = make_run(Status.QUEUED)
    services.pipeline_run_cancel(run=run, user=manager)
    other = make_run(Status.FAILED)
    PipelineRunEvent.objects.create(run=other, action="failed", message="boom")

    everything = page(panel.get(reverse("lake:audit")))
    assert "cancel requested" in everything and "boom" in everything

    by_manager = page(panel.get(reverse("lake:audit") + "?user=manager"))
    assert "boom" not in by_manager and "<strong>manager</strong>" in by_manager
    assert '<option value="manager" selected>' in by_manager

    failed_only = page(panel.get(reverse("lake:audit") + "?action=failed"))
    assert "boom" in failed_only and "cancel requested</span>" not in failed_only

    response = panel.get(reverse("lake:audit") + "?user=nobody")
    assert response.status_code == 400 and "Select a valid choice" in page(response)


def test_the_audit_when_empty(panel):
    assert "Nothing yet" in page(panel.get(reverse("lake:audit")))


# --- Catalog -------------------------------------------------------------------------------


def test_the_catalog_when_the_lake_is_empty(panel):
    html = page(panel.get(reverse("lake:catalog")))
    assert "No table yet" in html and "Nothing crawled yet" in html
    assert panel.get("/lake/catalog/marts/fact_sales/").status_code == 404
    assert panel.get("/lake/catalog/raw/rental/").status_code == 404
    assert panel.get("/lake/catalog/elsewhere/rental/").status_code == 404


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_catalog_and_freshness_of_a_real_lake(client, sakila_lake):
    first = sakila_lake(scale=0.02, seed=11)
    second = run_pipeline(full=True)
    client.force_login(make_role_user(MANAGER))

    catalog = page(client.get(reverse("lake:catalog")))
    for table in ("staging.rental", "marts.fact_sales", "raw.rental"):
        assert table in catalog
    assert "month(rental_date)" in catalog

    response = client.get(reverse("lake:catalog-table", args=["marts", "fact_sales"]))
    html = page(response)
    assert "rental_id" in html and "decimal(9, 2)" in html
    fact_id = second.snapshots["marts.fact_sales"]
    assert f"<code>{fact_id}</code>" in html
    assert "current</span>" in html
    for run in (first, second):  # each snapshot names the run that wrote it
        assert f'<a href="/lake/runs/{run.pk}/">run {run.pk}</a>' in html

    raw = page(client.get(reverse("lake:catalog-table", args=["raw", "rental"])))
    assert f'<a href="/lake/runs/{first.pk}/"><code>run_id={first.pk}</code></a>' in raw
    assert "v1" in raw

    freshness = page(client.get(reverse("lake:freshness")))
    assert f">{Rental.objects.count():,}<" in freshness
    assert "tables are within the service level" in freshness
