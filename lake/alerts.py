"""Alerts: people hear of a failed run, failed checks, a stale lake or a missing
worker, once per incident, and once more when it is resolved.

``alerts_evaluate`` looks at the conditions below, opens an ``Alert`` for
each that has begun and resolves each that has ended (under the pipeline
lock, so two evaluations never open the same incident twice), then sends
what is pending: an email to every user subscribed to that kind, and the
Slack-compatible webhook. Celery beat calls it every ALERT_WATCH_SECONDS
(``sakila_site.beat``: beat runs even when no worker does), and the worker
after every run. A delivery is claimed before it is sent and marked after,
so each message goes out once; one that fails is tried again at the next
evaluation, up to ALERT_DELIVERY_ATTEMPTS times.

Conditions:
- ``run_failed`` / ``checks_failed``: a pipeline run failed (or its checks
  did) and no pipeline run has published since;
- ``stale``: a lake table is older than its freshness SLA;
- ``no_worker``: no worker has beaten for ALERT_NO_WORKER_MINUTES.
"""

import json
import logging
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.error import URLError
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from lake import selectors
from lake.models import Alert, AlertDelivery, AlertSubscription, PipelineLock, PipelineRun

logger = logging.getLogger(__name__)

PREFIX = "[Sakila Lake]"
# A claimed delivery not marked sent after this long was lost with its sender: retried.
CLAIM_EXPIRES = timedelta(minutes=2)


@dataclass(frozen=True)
class Condition:
    kind: str
    subject: str  # why it is open, or the resolution
    message: str
    run: PipelineRun | None = None


def alerts_evaluate(*, now: datetime | None = None) -> None:
    """Open and resolve incidents as the conditions are now, then send what is pending."""
    now = now or timezone.now()
    current = {condition.kind: condition for condition in _conditions(now)}
    with transaction.atomic():
        PipelineLock.acquire()
        open_alerts = {
            a.kind: a for a in Alert.objects.select_for_update().filter(resolved_at=None)
        }
        for kind in Alert.Kind.values:
            condition, alert = current.get(kind), open_alerts.get(kind)
            if condition is not None and alert is None:
                alert = Alert.objects.create(
                    kind=kind,
                    subject=condition.subject,
                    message=condition.message,
                    run=condition.run,
                    opened_at=now,
                )
                _deliveries_add(alert, AlertDelivery.Event.OPENED)
            elif condition is None and alert is not None:
                alert.resolved_at = now
                alert.resolution = _resolution(kind)
                alert.save(update_fields=["resolved_at", "resolution"])
                _deliveries_add(alert, AlertDelivery.Event.RESOLVED)
    alerts_send(now=now)


def _conditions(now: datetime) -> list[Condition]:
    conditions = []
    published = selectors.published_run(kind=PipelineRun.Kind.PIPELINE)
    since = PipelineRun.objects.filter(kind=PipelineRun.Kind.PIPELINE)
    if published is not None:
        since = since.filter(pk__gt=published.pk)
    for status, kind in (
        (PipelineRun.Status.FAILED, Alert.Kind.RUN_FAILED),
        (PipelineRun.Status.CHECKS_FAILED, Alert.Kind.CHECKS_FAILED),
    ):
        if (run := since.filter(status=status).order_by("pk").first()) is not None:
            what = "failed" if status == PipelineRun.Status.FAILED else "ended with checks failed"
            conditions.append(
                Condition(
                    kind,
                    f"Run {run.pk} {what}: the lake is not being updated",
                    f"{run.error}\n\nReaders see the last published run"
                    + (f" ({published.pk})." if published else ".")
                    + f"\n{settings.SITE_URL}{reverse('lake:run', args=[run.pk])}",
                    run,
                )
            )
    if published is not None and (stale := selectors.lake_freshness_get(now=now).stale_tables):
        names = ", ".join(table.identifier for table in stale[:8])
        more = f" and {len(stale) - 8} more" if len(stale) > 8 else ""
        conditions.append(
            Condition(
                Alert.Kind.STALE,
                f"{len(stale)} lake tables are older than their "
                f"{settings.LAKE_FRESHNESS_SLA_MINUTES}-minute SLA",
                f"Stale: {names}{more}.\n{settings.SITE_URL}{reverse('lake:freshness')}",
            )
        )
    worker = selectors.worker_status()
    silent_since = now - timedelta(minutes=settings.ALERT_NO_WORKER_MINUTES)
    if not worker.alive and (worker.last_seen is None or worker.last_seen < silent_since):
        seen = f"last seen {worker.last_seen:%Y-%m-%d %H:%M}" if worker.last_seen else "never seen"
        conditions.append(
            Condition(
                Alert.Kind.NO_WORKER,
                "No Celery worker is running: runs wait",
                f"No worker has reported in for {settings.ALERT_NO_WORKER_MINUTES:g} minutes "
                f"({seen}). Queued runs, refreshes and schedules wait for one.",
            )
        )
    return conditions


def _resolution(kind: str) -> str:
    return {
        Alert.Kind.RUN_FAILED: "A run has published since.",
        Alert.Kind.CHECKS_FAILED: "A run has published since.",
        Alert.Kind.STALE: "Every lake table is within its freshness SLA again.",
        Alert.Kind.NO_WORKER: "A worker is running again.",
    }[kind]


def alert_recipients(kind: str) -> list[str]:
    """The email addresses of the active users who may see the lake and want ``kind``."""
    users = (
        get_user_model()
        .objects.with_perm(
            "lake.view_pipelinerun", backend="django.contrib.auth.backends.ModelBackend"
        )
        .filter(is_active=True)
        .exclude(email="")
    )
    subscriptions = {s.user_id: s for s in AlertSubscription.objects.all()}
    return sorted(
        {
            user.email
            for user in users
            if user.pk not in subscriptions or subscriptions[user.pk].wants(kind)
        }
    )


def _deliveries_add(alert: Alert, event: str) -> None:
    deliveries = [
        AlertDelivery(alert=alert, event=event, channel="email", recipient=address)
        for address in alert_recipients(alert.kind)
    ]
    if settings.ALERT_WEBHOOK_URL:
        host = urlsplit(settings.ALERT_WEBHOOK_URL).netloc
        deliveries.append(
            AlertDelivery(alert=alert, event=event, channel="webhook", recipient=host)
        )
    AlertDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)


def alerts_send(*, now: datetime | None = None) -> int:
    """Send every pending delivery once; how many went out."""
    now = now or timezone.now()
    sent = 0
    pending = AlertDelivery.objects.filter(status=AlertDelivery.Status.PENDING).select_related(
        "alert"
    )
    for delivery in pending.order_by("pk"):
        # Claim it: of two senders, one sends.
        claimed = (
            AlertDelivery.objects.filter(pk=delivery.pk, status=AlertDelivery.Status.PENDING)
            .exclude(claimed_at__gt=now - CLAIM_EXPIRES)
            .update(claimed_at=now, attempts=delivery.attempts + 1)
        )
        if not claimed:
            continue
        delivery.attempts += 1
        try:
            _send(delivery)
        except (OSError, URLError, ValueError) as error:
            logger.warning("alert delivery %s failed: %s", delivery.pk, error)
            gave_up = delivery.attempts >= settings.ALERT_DELIVERY_ATTEMPTS
            AlertDelivery.objects.filter(pk=delivery.pk).update(
                status=AlertDelivery.Status.FAILED if gave_up else AlertDelivery.Status.PENDING,
                claimed_at=None,
                error=f"{type(error).__name__}: {error}",
            )
            continue
        AlertDelivery.objects.filter(pk=delivery.pk).update(
            status=AlertDelivery.Status.SENT, sent_at=timezone.now(), error=""
        )
        sent += 1
    return sent


def alert_text(alert: Alert, event: str) -> tuple[str, str]:
    """The subject and body of a message about ``alert``."""
    if event == AlertDelivery.Event.RESOLVED:
        return (
            f"{PREFIX} Resolved: {alert.subject}",
            f"{alert.resolution}\n\nOpened {alert.opened_at:%Y-%m-%d %H:%M}, resolved "
            f"{alert.resolved_at:%Y-%m-%d %H:%M}.\n{settings.SITE_URL}{reverse('lake:alerts')}",
        )
    return f"{PREFIX} {alert.subject}", alert.message


def _send(delivery: AlertDelivery) -> None:
    subject, body = alert_text(delivery.alert, delivery.event)
    if delivery.channel == "email":
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [delivery.recipient])
        return
    payload = json.dumps({"text": f"*{subject}*\n{body}"}).encode()
    request = urllib.request.Request(
        settings.ALERT_WEBHOOK_URL,
        data=payload,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status >= 300:
            raise ValueError(f"the webhook answered {response.status}")


def alert_subscription_get(*, user) -> AlertSubscription:
    """The user's alert choices (all on until they change them)."""
    return AlertSubscription.objects.filter(user=user).first() or AlertSubscription(user=user)
