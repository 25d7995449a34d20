"""The lake's REST API (/api/lake/runs/): list, start, follow, cancel, retry and resume runs."""

from datetime import datetime, timedelta

import pytest
from botocore.stub import Stubber
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from lake import services, tasks
from lake.aws.clients import aws_client
from lake.models import PipelineRun, PipelineStep
from tests.lake.engines.test_glue import expect_poll, expect_resume, workflow_run
from tests.lake.test_views import make_glue_run_failed_at_marts, make_run
from tests.problems import detail_of, errors_of

pytestmark = pytest.mark.django_db

Status = PipelineRun.Status
RUNS = "/api/lake/runs/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def api(manager) -> APIClient:
    return client_for(manager)


def test_the_api_needs_a_login():
    anonymous = APIClient()
    run = make_run(Status.QUEUED)
    assert anonymous.get(RUNS).status_code == 401
    assert anonymous.post(RUNS, {}, format="json").status_code == 401
    assert anonymous.post(f"{RUNS}{run.pk}/cancel/").status_code == 401


def test_clerks_cannot_read_start_cancel_or_retry_runs(clerk):
    queued, failed = make_run(Status.QUEUED), make_run(Status.FAILED)
    api = client_for(clerk)
    assert api.get(RUNS).status_code == 403
    assert api.get(f"{RUNS}{queued.pk}/").status_code == 403
    assert api.post(RUNS, {"full": True}, format="json").status_code == 403
    assert api.post(f"{RUNS}{queued.pk}/cancel/").status_code == 403
    assert api.post(f"{RUNS}{failed.pk}/retry/").status_code == 403
    assert api.post(f"{RUNS}{failed.pk}/resume/").status_code == 403
    assert PipelineRun.objects.count() == 2
    queued.refresh_from_db()
    assert queued.status == Status.QUEUED


def test_admins_may_do_everything(admin_role_user):
    api = client_for(admin_role_user)
    assert api.get(RUNS).status_code == 200
    assert api.post(RUNS, {}, format="json").status_code == 201


def test_list_runs_newest_first_with_rows_and_pagination(api, manager):
    first = make_run(Status.SUCCEEDED, full=True, requested_by=manager)
    second = make_run(Status.FAILED, error="boom")
    response = api.get(RUNS)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [run["id"] for run in body["results"]] == [second.pk, first.pk]
    listed = body["results"][1]
    assert listed["status"] == "succeeded" and listed["full"] is True
    assert listed["requested_by"] == "manager"
    assert listed["rows_read"] == 120 and listed["rows_written"] == 30
    assert listed["seconds"] == 12.0
    assert listed["url"] == f"http://testserver/api/v1/lake/runs/{first.pk}/"
    assert "steps" not in listed
    assert api.get(RUNS, {"page_size": 1}).json()["next"].endswith("page=2&page_size=1")


def test_list_filters(api):
    old = make_run(Status.FAILED, created_at=datetime(2025, 1, 10, 9))
    api_run = make_run(Status.SUCCEEDED, trigger="api", created_at=datetime(2025, 2, 3, 9))

    def ids(**params) -> set[int]:
        response = api.get(RUNS, params)
        assert response.status_code == 200, response.json()
        return {run["id"] for run in response.json()["results"]}

    assert ids(status="failed") == {old.pk}
    assert ids(trigger="api") == {api_run.pk}
    assert ids(date_from="2025-02-01") == {api_run.pk}
    assert ids(date_to="2025-01-31") == {old.pk}
    assert ids(date_from="2025-01-10", date_to="2025-02-03") == {old.pk, api_run.pk}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "sleeping"}, "status"),
        ({"trigger": "cron"}, "trigger"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_from": "2025-02-03", "date_to": "2025-02-01"}, "date_to"),
    ],
)
def test_bad_filters_are_400s_naming_the_parameter(api, params, field):
    response = api.get(RUNS, params)
    assert response.status_code == 400
    assert field in errors_of(response)


def test_the_list_costs_the_same_queries_for_more_runs(manager, django_assert_max_num_queries):
    # A token, as a REST client sends it: token and user, permissions, count, page.
    api = APIClient(headers={"Authorization": f"Token {Token.objects.create(user=manager).key}"})
    for _ in range(2):
        make_run()
    with django_assert_max_num_queries(6):
        assert api.get(RUNS).status_code == 200
    for _ in range(30):
        make_run()
    with django_assert_max_num_queries(6):
        assert len(api.get(RUNS).json()["results"]) == 32


def test_detail_with_steps(api):
    run = make_run(
        Status.SUCCEEDED,
        watermarks_to={"rental": "2025-02-03 10:00:00"},
        snapshots={"marts.fact_sales": 123456789012345678},
    )
    response = api.get(f"{RUNS}{run.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert [step["name"] for step in body["steps"]] == ["extract", "stage rental", "crawl"]
    assert body["steps"][0] == {
        "name": "extract",
        "position": 0,
        "status": "succeeded",
        "started_at": body["steps"][0]["started_at"],
        "finished_at": body["steps"][0]["finished_at"],
        "seconds": 1.0,
        "rows": 120,
        "files_written": 0,
        "log": "",
        "error": "",
    }
    assert body["snapshots"] == {"marts.fact_sales": 123456789012345678}
    assert body["watermarks_to"] == {"rental": "2025-02-03 10:00:00"}


def test_a_queued_runs_detail_says_whether_a_worker_will_take_it(api):
    run = make_run(Status.QUEUED)
    assert api.get(f"{RUNS}{run.pk}/").json()["worker_alive"] is False
    services.worker_heartbeat_record(hostname="celery@api", pid=1)
    assert api.get(f"{RUNS}{run.pk}/").json()["worker_alive"] is True


def test_unknown_or_impossible_ids_are_404s(api):
    assert api.get(f"{RUNS}999/").status_code == 404
    assert api.get(f"{RUNS}99999999999/").status_code == 404
    assert api.post(f"{RUNS}999/cancel/").status_code == 404
    assert api.get(f"{RUNS}abc/").status_code == 404


def test_create_queues_a_run(api, manager):
    make_run(Status.SUCCEEDED, snapshots={"marts.fact_sales": 1})  # the lake has data
    response = api.post(RUNS, {"full": False}, format="json")
    assert response.status_code == 201
    run = PipelineRun.objects.get(pk=response.json()["id"])
    assert (run.status, run.trigger, run.full, run.requested_by) == (
        "queued",
        "api",
        False,
        manager,
    )
    assert response.json()["status"] == "queued" and response.json()["steps"] == []
    assert run.events.get().user == manager


def test_create_a_full_run_and_refuse_a_bad_body(api):
    assert api.post(RUNS, {"full": "perhaps"}, format="json").status_code == 400
    response = api.post(RUNS, {"full": True}, format="json")
    assert response.status_code == 201 and response.json()["full"] is True


def test_a_second_run_while_one_is_active_is_a_409_naming_it(api):
    active = make_run(Status.RUNNING)
    response = api.post(RUNS, {}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert f"Run {active.pk} is already running" in body["detail"]
    assert body["active_run"] == {
        "id": active.pk,
        "status": "running",
        "url": f"http://testserver/api/v1/lake/runs/{active.pk}/",
    }
    assert PipelineRun.objects.count() == 1


def test_cancel_a_queued_run(api, manager):
    run = make_run(Status.QUEUED)
    response = api.post(f"{RUNS}{run.pk}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancel_requested_by"] == "manager"
    assert run.events.filter(action="cancelled", user=manager).exists()


def test_cancel_a_finished_run_is_a_409(api):
    run = make_run(Status.FAILED)
    response = api.post(f"{RUNS}{run.pk}/cancel/")
    assert response.status_code == 409
    assert detail_of(response) == services.ERROR_NOT_ACTIVE.format(run_id=run.pk, status="failed")


def test_retry_a_failed_run(api, manager):
    failed = make_run(Status.FAILED, full=True)
    response = api.post(f"{RUNS}{failed.pk}/retry/")
    assert response.status_code == 201
    body = response.json()
    assert body["retry_of"] == failed.pk and body["status"] == "queued" and body["full"]
    retry = PipelineRun.objects.get(pk=body["id"])
    assert retry.trigger == "api" and retry.requested_by == manager


def test_retry_is_refused_for_a_succeeded_run_or_while_one_is_active(api):
    succeeded = make_run(Status.SUCCEEDED)
    response = api.post(f"{RUNS}{succeeded.pk}/retry/")
    assert response.status_code == 409
    assert detail_of(response) == services.ERROR_NOT_RETRYABLE.format(
        run_id=succeeded.pk, status="succeeded"
    )
    failed = make_run(Status.FAILED)
    active = make_run(Status.RUNNING)
    response = api.post(f"{RUNS}{failed.pk}/retry/")
    assert response.status_code == 409
    assert response.json()["active_run"]["id"] == active.pk
    assert PipelineRun.objects.count() == 3


def test_resume_a_failed_glue_run(api, manager, aws, monkeypatch):
    monkeypatch.setattr(tasks.pipeline_run_poll_task, "apply_async", lambda *a, **kw: None)
    failed = make_glue_run_failed_at_marts(full=True)
    with Stubber(aws_client("glue")) as stub:
        expect_poll(stub, failed, workflow_run(failed, "COMPLETED", extract="SUCCEEDED",
                                               marts="FAILED"))  # fmt: skip
        expect_resume(stub, failed, ["wnode_marts"], "wr_resumed01")
        response = api.post(f"{RUNS}{failed.pk}/resume/")
        stub.assert_no_pending_responses()

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["retry_of"], body["resumed"]) == (failed.pk, True)
    assert (body["status"], body["engine"]) == ("running", "glue")
    assert body["glue_run_id"] == "wr_resumed01" and body["full"]
    assert [(step["name"], step["status"]) for step in body["steps"]] == [
        ("extract", "succeeded"),
        ("marts", "pending"),
        ("crawl", "pending"),
    ]
    resumed = PipelineRun.objects.get(pk=body["id"])
    assert resumed.trigger == "api" and resumed.requested_by == manager


def test_resume_is_refused_with_the_reason_or_the_active_run(api):
    local = make_run(Status.FAILED)
    response = api.post(f"{RUNS}{local.pk}/resume/")
    assert response.status_code == 409
    assert detail_of(response) == services.ERROR_RESUME_ENGINE.format(
        run_id=local.pk, engine="local"
    )
    failed = make_glue_run_failed_at_marts()
    active = make_run(Status.RUNNING)
    response = api.post(f"{RUNS}{failed.pk}/resume/")  # refused before Glue is asked
    assert response.status_code == 409
    assert response.json()["active_run"]["id"] == active.pk
    assert "is already running" in detail_of(response)
    assert PipelineRun.objects.count() == 3


def test_a_run_followed_through_the_api_shows_its_steps_as_they_come(api):
    run = make_run(Status.RUNNING, steps=())
    assert api.get(f"{RUNS}{run.pk}/").json()["steps"] == []
    PipelineStep.objects.create(
        run=run, name="extract", status="running", started_at=run.started_at
    )
    step = api.get(f"{RUNS}{run.pk}/").json()["steps"][0]
    assert step["status"] == "running" and step["seconds"] is None
    run.status, run.finished_at = Status.SUCCEEDED, run.started_at + timedelta(seconds=3)
    run.save()
    assert api.get(f"{RUNS}{run.pk}/").json()["seconds"] == 3.0
