"""Celery beat's scheduler: django-celery-beat's, which also watches for alerts.

Alerts must go out when no worker runs (one of them says so), and tasks
need a worker: so beat itself evaluates them (``lake.alerts``) every
ALERT_WATCH_SECONDS, between sending the scheduled tasks.
"""

import logging
import time

from django.conf import settings
from django_celery_beat.schedulers import DatabaseScheduler

logger = logging.getLogger(__name__)


class Scheduler(DatabaseScheduler):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._alerts_due = 0.0

    def tick(self, *args, **kwargs) -> float:
        interval = super().tick(*args, **kwargs)
        now = time.monotonic()
        if now >= self._alerts_due:
            self._alerts_due = now + settings.ALERT_WATCH_SECONDS
            self.watch()
        return min(interval, max(self._alerts_due - now, 1.0))

    def watch(self) -> None:
        from lake.alerts import alerts_evaluate  # Django is set up by the time beat ticks

        try:
            alerts_evaluate()
        except Exception:  # a database hiccup must not stop the schedules
            logger.exception("could not evaluate the lake's alerts")
