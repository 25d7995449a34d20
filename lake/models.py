"""Pipeline runs, their steps, the extract watermarks and the crawled raw tables.

A run is the unit readers see: the lake tables' snapshot ids are recorded on
a run when it succeeds, and readers use those of the latest successful run,
so a failed or killed run is never half visible.
"""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class PipelineRun(models.Model):
    class Kind(models.TextChoices):
        PIPELINE = "pipeline", "pipeline run"
        MAINTENANCE = "maintenance", "maintenance"

    class Trigger(models.TextChoices):
        MANUAL = "manual"  # from the control panel, by its user
        SCHEDULE = "schedule"
        EVENT = "event"
        API = "api"
        THRESHOLD = "threshold"  # maintenance after enough runs
        COMMAND = "command", "Command line"  # manage.py lake run, by an OS user

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"
        # Written, but a check of its data failed: not published (see PipelineCheck).
        CHECKS_FAILED = "checks_failed", "checks failed"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    # A pipeline run reads the OLTP into the lake; a maintenance run compacts and
    # cleans the lake's tables. One at a time of either kind.
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.PIPELINE)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.MANUAL)
    engine = models.CharField(max_length=10, default="local")
    full = models.BooleanField(default=False, help_text="rebuild everything from the OLTP")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # A run started from the command line: the operating-system user who ran it.
    os_user = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    host = models.CharField(max_length=255, blank=True)
    pid = models.IntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    watermarks_from = models.JSONField(default=dict, blank=True)
    watermarks_to = models.JSONField(default=dict, blank=True)
    # Lake table -> Iceberg snapshot id, recorded when the run succeeds (and,
    # for a run whose checks failed, what it wrote: published if a manager
    # publishes it anyway).
    snapshots = models.JSONField(default=dict, blank=True)
    # Set by maintenance once the run is older than the retention window: its
    # snapshots may be expired, so time travel to it is refused.
    snapshots_expired = models.BooleanField(default=False)
    glue_run_id = models.CharField(max_length=255, blank=True)
    # A cancel is a request: the engine stops the run at its next step boundary.
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    retry_of = models.ForeignKey(
        "self", models.SET_NULL, null=True, blank=True, related_name="retries"
    )
    # A resumed run goes on from retry_of's failed steps; a retry starts over.
    resumed = models.BooleanField(default=False)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "-id"], name="lake_run_status_idx")]

    def __str__(self) -> str:
        return f"Run {self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class PipelineRunEvent(models.Model):
    """The audit trail of a run: who triggered, cancelled, retried or resumed it, how it ended."""

    class Action(models.TextChoices):
        TRIGGERED = "triggered"
        STARTED = "started"
        CANCEL_REQUESTED = "cancel requested"
        CANCELLED = "cancelled"
        RETRIED = "retried"
        RESUMED = "resumed"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CHECKS_FAILED = "checks failed"
        PUBLISHED_ANYWAY = "published anyway"

    run = models.ForeignKey(PipelineRun, models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=20, choices=Action.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"Run {self.run_id} {self.action}"


class PipelineLock(models.Model):
    """One row that run starters lock, so at most one run is ever active.

    It also holds the debounce state of event-driven refreshes: when a
    refresh was last asked for, and when the pending refresh task is due.
    """

    refresh_requested_at = models.DateTimeField(null=True, blank=True)
    refresh_due_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return "pipeline lock"

    @classmethod
    def acquire(cls) -> "PipelineLock":
        """Lock the row until the current transaction ends (call inside one)."""
        cls.objects.get_or_create(pk=1)
        return cls.objects.select_for_update().get(pk=1)


class PipelineStep(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        SKIPPED = "skipped"

    run = models.ForeignKey(PipelineRun, models.CASCADE, related_name="steps")
    name = models.CharField(max_length=64)  # "extract", "stage rental", "fact_sales", "crawl"
    position = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows = models.BigIntegerField(default=0)
    files_written = models.IntegerField(default=0)
    log = models.TextField(blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "position"]
        constraints = [models.UniqueConstraint(fields=["run", "name"], name="lake_step_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.status})"

    @property
    def seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class PipelineCheck(models.Model):
    """One data check of a run (lake/core/checks.py), as it ran before the publish."""

    class Status(models.TextChoices):
        PASSED = "passed"
        FAILED = "failed"  # an error-severity check: the run is not published
        WARNED = "warned"  # a warn-severity check: published, flagged
        ERROR = "error"  # the check could not run: blocks the publish as a failure does

    BLOCKING = (Status.FAILED, Status.ERROR)

    run = models.ForeignKey(PipelineRun, models.CASCADE, related_name="checks")
    table = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=16)
    severity = models.CharField(max_length=8)
    status = models.CharField(max_length=8, choices=Status.choices)
    failing = models.BigIntegerField(default=0)  # rows that break it
    rows = models.JSONField(default=list, blank=True, encoder=DjangoJSONEncoder)  # the first 20
    sql = models.TextField(blank=True)
    message = models.TextField(blank=True)
    seconds = models.FloatField(default=0)

    class Meta:
        ordering = ["run", "id"]

    def __str__(self) -> str:
        return f"{self.table}: {self.name} ({self.status})"

    @property
    def passed(self) -> bool:
        return self.status == self.Status.PASSED


class Watermark(models.Model):
    """How far each source table has been extracted (its largest last_update)."""

    table = models.CharField(max_length=64, unique=True)
    value = models.DateTimeField()
    run = models.ForeignKey(PipelineRun, models.SET_NULL, null=True, related_name="+")
    # Rows in staging when it was set: a source with fewer rows has had deletes.
    rows = models.BigIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.table} @ {self.value}"


class CrawledTable(models.Model):
    """A raw-zone table as the crawler found it (as a Glue crawler catalogs one)."""

    name = models.CharField(max_length=64, unique=True)
    location = models.CharField(max_length=1024)
    columns = models.JSONField(default=list)  # [{"name": ..., "type": ...}]
    partitions = models.JSONField(default=list)  # ["run_id=1", ...]
    schema_version = models.PositiveIntegerField(default=1)
    # [{"version": 2, "added": [...], "at": "..."}]: what each new version changed.
    schema_changes = models.JSONField(default=list)
    first_crawled_at = models.DateTimeField(default=timezone.now)
    last_crawled_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"raw.{self.name}"


class WorkerHeartbeat(models.Model):
    """A Celery worker's sign of life, written every few seconds while it runs.

    The panel reads it to say when no worker is running: the embedded broker
    cannot answer Celery's broadcast ping, so the database carries the news.
    """

    hostname = models.CharField(max_length=191, unique=True)  # Celery's node name
    pid = models.IntegerField()
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.hostname} (process {self.pid})"


class Alert(models.Model):
    """An incident people were told of: opened once, resolved once (lake/alerts.py)."""

    class Kind(models.TextChoices):
        RUN_FAILED = "run_failed", "a run failed"
        CHECKS_FAILED = "checks_failed", "a run's checks failed"
        STALE = "stale", "the lake is stale"
        NO_WORKER = "no_worker", "no worker is running"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    subject = models.CharField(max_length=255)
    message = models.TextField()
    run = models.ForeignKey(PipelineRun, models.SET_NULL, null=True, blank=True, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["kind", "resolved_at"], name="lake_alert_open_idx")]

    def __str__(self) -> str:
        return f"{self.subject} ({'resolved' if self.resolved_at else 'open'})"


class AlertDelivery(models.Model):
    """One message of an alert to one recipient: sent exactly once."""

    class Event(models.TextChoices):
        OPENED = "opened"
        RESOLVED = "resolved"

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"  # gave up after ALERT_DELIVERY_ATTEMPTS

    alert = models.ForeignKey(Alert, models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=8, choices=Event.choices)
    channel = models.CharField(max_length=8)  # "email" or "webhook"
    recipient = models.CharField(max_length=255)  # an address, or the webhook's host
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)  # a sender is on it
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["alert", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "event", "channel", "recipient"], name="lake_alert_delivery_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.alert} {self.event} to {self.recipient}: {self.status}"


class AlertSubscription(models.Model):
    """Which alerts a user receives by email (without a row: all of them)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="lake_alerts"
    )
    run_failed = models.BooleanField("runs that fail", default=True)
    checks_failed = models.BooleanField("runs whose checks fail", default=True)
    stale = models.BooleanField("the lake going stale", default=True)
    no_worker = models.BooleanField("no worker running", default=True)

    def __str__(self) -> str:
        return f"alerts of {self.user}"

    def wants(self, kind: str) -> bool:
        return bool(getattr(self, kind))
