"""The Celery app: broker from CELERY_BROKER_URL (settings), tasks from each app's tasks.py.

Workers: ``celery -A sakila_site worker --pool threads``; schedules:
``celery -A sakila_site beat`` (django-celery-beat, edited in the admin).
"""

import os

from celery import Celery

from lake.heartbeat import WorkerHeartbeatStep

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sakila_site.settings")

app = Celery("sakila_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Each worker records that it is alive, for the control panel (lake/heartbeat.py).
app.steps["worker"].add(WorkerHeartbeatStep)
