"""Alerts (lake/alerts.py): one message per incident and one when it is resolved,
by email to whoever subscribed and to the webhook, whatever evaluates them."""

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from lake import alerts, selectors, services, tasks
from lake.models import Alert, AlertDelivery, AlertSubscription, PipelineRun, Watermark
from lake.pipeline.schemas import STAGED_MODELS, table_name
from sakila_site import beat
from sakila_site.roles import CLERK, MANAGER
from tests.conftest import make_role_user

Status = PipelineRun.Status


@pytest.fixture
def managers(db, role_groups):
    """Two managers with addresses, and a clerk with one (clerks get no alerts)."""
    people = {
        "ann": make_role_user(MANAGER, username="ann"),
        "bob": make_role_user(MANAGER, username="bob"),
        "cid": make_role_user(CLERK, username="cid"),
    }
    for name, user in people.items():
        user.email = f"{name}@example.com"
        user.save()
    return people


@pytest.fixture
def fresh(db, worker_alive, lake):
    """A worker is running and every table was read just now."""
    for model in STAGED_MODELS:
        Watermark.objects.create(table=table_name(model), value=timezone.now())


def published_snapshots() -> dict[str, int]:
    """Snapshot ids of every lake table, as a published run records them."""
    return {identifier: 1 for identifier in selectors.lake_table_identifiers()}


def ended_run(status: str, **fields) -> PipelineRun:
    now = timezone.now()
    return PipelineRun.objects.create(
        status=status, started_at=now, finished_at=now, error=fields.pop("error", ""), **fields
    )


class Receiver(BaseHTTPRequestHandler):
    received: list[dict] = []
    answer = 200

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(type(self).answer)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def webhook(settings):
    """A local HTTP receiver as the ALERT_WEBHOOK_URL; yields what it received."""
    Receiver.received, Receiver.answer = [], 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.ALERT_WEBHOOK_URL = f"http://127.0.0.1:{server.server_port}/hooks/secret"
    yield Receiver
    server.shutdown()
    server.server_close()


def test_a_failed_run_is_told_once_and_its_recovery_once(managers, fresh, webhook):
    failed = ended_run(Status.FAILED, error="OperationalError: database is locked")

    alerts.alerts_evaluate()
    alerts.alerts_evaluate()  # beat looks again: the incident is known

    (alert,) = Alert.objects.all()
    assert (alert.kind, alert.run, alert.resolved_at) == (Alert.Kind.RUN_FAILED, failed, None)
    assert sorted(message.to[0] for message in mail.outbox) == [
        "ann@example.com",
        "bob@example.com",
    ]
    assert (
        mail.outbox[0].subject
        == f"[Sakila Lake] Run {failed.pk} failed: the lake is not being updated"
    )
    assert "database is locked" in mail.outbox[0].body
    assert f"/lake/runs/{failed.pk}/" in mail.outbox[0].body
    assert [message["text"].splitlines()[0] for message in webhook.received] == [
        f"*[Sakila Lake] Run {failed.pk} failed: the lake is not being updated*"
    ]

    ended_run(Status.FAILED, error="again")  # the same incident goes on: nothing new
    alerts.alerts_evaluate()
    assert len(mail.outbox) == 2 and len(webhook.received) == 1

    ended_run(Status.SUCCEEDED, snapshots=published_snapshots())
    alerts.alerts_evaluate()
    alerts.alerts_evaluate()

    alert.refresh_from_db()
    assert alert.resolved_at is not None and alert.resolution == "A run has published since."
    resolved = [
        message for message in mail.outbox if message.subject.startswith("[Sakila Lake] Resolved")
    ]
    assert len(resolved) == 2 and len(mail.outbox) == 4
    assert len(webhook.received) == 2 and "Resolved" in webhook.received[1]["text"]
    assert AlertDelivery.objects.filter(status=AlertDelivery.Status.SENT).count() == 6


def test_checks_failed_is_an_incident_of_its_own(managers, fresh):
    ended_run(Status.FAILED, error="boom")
    ended_run(Status.CHECKS_FAILED, error="1 of 56 checks failed")

    alerts.alerts_evaluate()

    assert set(Alert.objects.values_list("kind", flat=True)) == {"run_failed", "checks_failed"}


def test_who_receives_what_is_chosen_per_user(managers, fresh, client):
    client.force_login(managers["bob"])
    page = reverse("lake:alerts")
    assert "Email me when" in client.get(page).content.decode()
    client.post(page, {"checks_failed": "on", "stale": "on", "no_worker": "on"})  # no run_failed
    assert AlertSubscription.objects.get(user=managers["bob"]).run_failed is False

    ended_run(Status.FAILED, error="boom")
    alerts.alerts_evaluate()

    assert [message.to for message in mail.outbox] == [["ann@example.com"]]
    html = client.get(page).content.decode()
    assert "email ann@example.com (opened)" in html and "is not being updated" in html


def test_a_webhook_that_fails_is_tried_again_and_then_given_up(managers, fresh, webhook, settings):
    settings.ALERT_DELIVERY_ATTEMPTS = 2
    webhook.answer = 500
    ended_run(Status.FAILED, error="boom")

    alerts.alerts_evaluate()
    delivery = AlertDelivery.objects.get(channel="webhook")
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert "500" in delivery.error

    webhook.answer = 200
    alerts.alerts_evaluate(now=timezone.now() + timedelta(minutes=3))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert len(webhook.received) == 2  # the failed try, then the one that went through


def test_no_worker_for_some_minutes_is_told_and_its_return_too(managers, settings):
    alerts.alerts_evaluate()  # no worker ever seen, and no run ever published
    (alert,) = Alert.objects.all()
    assert alert.kind == Alert.Kind.NO_WORKER and "never seen" in alert.message

    services.worker_heartbeat_record(hostname="celery@back", pid=1)
    alerts.alerts_evaluate()

    alert.refresh_from_db()
    assert alert.resolved_at is not None
    assert (
        mail.outbox[-1].subject == "[Sakila Lake] Resolved: No Celery worker is running: runs wait"
    )


def test_a_stale_lake_is_told(managers, worker_alive, lake, settings):
    settings.LAKE_FRESHNESS_SLA_MINUTES = 60
    for model in STAGED_MODELS:
        Watermark.objects.create(table=table_name(model), value=timezone.now() - timedelta(hours=3))
    ended_run(Status.SUCCEEDED, snapshots=published_snapshots())

    alerts.alerts_evaluate()

    (alert,) = Alert.objects.all()
    assert alert.kind == Alert.Kind.STALE and "60-minute SLA" in alert.subject


def test_the_worker_tells_at_once_after_a_run(managers, fresh, webhook, monkeypatch):
    """What beat would tell within ALERT_WATCH_SECONDS, the worker tells as the run ends."""
    run = PipelineRun.objects.create()
    monkeypatch.setattr(
        "lake.engines.local.pipeline_run_execute",
        lambda run, **_: PipelineRun.objects.filter(pk=run.pk).update(
            status=Status.FAILED, error="x"
        ),
    )

    tasks.pipeline_run_task(run.pk)

    assert Alert.objects.get().run == run
    assert len(mail.outbox) == 2 and len(webhook.received) == 1


def test_beat_looks_for_alerts_on_its_ticks_and_a_failure_does_not_stop_it(monkeypatch):
    looks = []
    monkeypatch.setattr(alerts, "alerts_evaluate", lambda: looks.append(1))
    scheduler = object.__new__(beat.Scheduler)
    scheduler._alerts_due = 0.0
    monkeypatch.setattr(beat.DatabaseScheduler, "tick", lambda self, *a, **kw: 5.0)

    assert scheduler.tick() <= 5.0
    scheduler.tick()  # not due again yet
    assert looks == [1]

    def broken():
        raise RuntimeError("database is locked")

    monkeypatch.setattr(alerts, "alerts_evaluate", broken)
    scheduler._alerts_due = 0.0
    scheduler.tick()  # logged, not raised
