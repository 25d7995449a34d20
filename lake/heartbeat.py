"""The Celery worker's heartbeat: a worker bootstep that records the worker alive.

Every third of LAKE_WORKER_ALIVE_SECONDS the worker writes its row of
``WorkerHeartbeat`` (``services.worker_heartbeat_record``), and deletes it when
it stops cleanly; the control panel reads it (``selectors.worker_status``).
The database carries it because the embedded broker cannot answer Celery's
broadcast ping. Registered on the app in ``sakila_site/celery.py``, which is
loaded before Django's apps are ready: Django is imported only once the worker starts.
"""

import logging
import os

from celery import bootsteps

logger = logging.getLogger(__name__)


def _beat(hostname: str, pid: int) -> None:
    """One heartbeat. A failure is logged, never raised: the timer must go on beating."""
    from django.db import close_old_connections

    from lake import services

    try:
        services.worker_heartbeat_record(hostname=hostname, pid=pid)
    except Exception:
        logger.warning("could not record the worker's heartbeat", exc_info=True)
    finally:
        # This thread serves no request or task: close what CONN_MAX_AGE says to close.
        close_old_connections()


class WorkerHeartbeatStep(bootsteps.StartStopStep):
    """Beats from the worker's timer (its own thread, or the event loop's timer)."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs) -> None:
        super().__init__(worker, **kwargs)
        self.timer_entry = None
        self.pid = os.getpid()

    def start(self, worker) -> None:
        from django.conf import settings

        self.pid = os.getpid()
        _beat(worker.hostname, self.pid)  # at once: a restarted worker shows up without delay
        interval = max(settings.LAKE_WORKER_ALIVE_SECONDS / 3, 1)
        self.timer_entry = worker.timer.call_repeatedly(
            interval, _beat, (worker.hostname, self.pid), priority=10
        )

    def stop(self, worker) -> None:
        from lake import services

        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None
        try:
            services.worker_heartbeat_end(hostname=worker.hostname, pid=self.pid)
        except Exception:  # stopping anyway; the heartbeat then ages out
            logger.warning("could not remove the worker's heartbeat", exc_info=True)
