"""Schedules in words, system tasks that can be switched off (saying what that
means), schedule changes in the audit, and runs started from the command line."""

import getpass

import pytest
from celery import schedules as celery_schedules
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask
from django_celery_beat.schedulers import ModelEntry

from lake.models import PipelineRun, PipelineRunEvent
from lake.panel import schedules
from sakila_site.celery import app

pytestmark = pytest.mark.django_db

REAPER = "Reap dead lake runs"
CLEANUP = "celery.backend_cleanup"


@pytest.fixture
def panel(client, manager, lake) -> Client:
    client.force_login(manager)
    return client


def beat_starts() -> None:
    """What Celery beat does when it starts (DatabaseScheduler.install_default_entries):
    create or update its own celery.backend_cleanup schedule."""
    ModelEntry.from_entry(
        CLEANUP,
        app=app,
        task=CLEANUP,
        schedule=celery_schedules.crontab("0", "4", "*"),
        options={"expire_seconds": 12 * 3600},
    )


@pytest.fixture
def beat_defaults(db) -> None:
    beat_starts()


def page(response) -> str:
    return response.content.decode()


def one_line(html: str) -> str:
    return " ".join(html.split())


# --- When, in words ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("every", "period", "words"),
    [
        (60, "seconds", "every minute"),
        (300, "seconds", "every 5 minutes"),
        (90, "seconds", "every 90 seconds"),
        (1, "hours", "every hour"),
        (120, "minutes", "every 2 hours"),
        (1, "days", "every day"),
    ],
)
def test_intervals_read_in_their_largest_unit(every, period, words):
    assert schedules.interval_words(every, period) == words


def test_crontabs_read_in_a_few_words():
    hourly = CrontabSchedule(minute="5", hour="*")
    nightly = CrontabSchedule(minute="0", hour="2")
    mondays = CrontabSchedule(minute="0", hour="2", day_of_week="1")
    assert schedules.crontab_words(hourly) == "hourly at minute 5"
    assert schedules.crontab_words(nightly) == "daily at 02:00"
    assert schedules.crontab_words(mondays).startswith("At 02:00 AM, only on Monday")
    assert schedules.crontab_expression(mondays) == "0 2 * * 1"


def test_the_when_column_has_the_words_and_the_crontab(panel, beat_defaults):
    html = one_line(page(panel.get(reverse("lake:schedules"))))
    assert '<td class="when">hourly at minute 5<br><code class="help"' in html
    assert ">5 * * * *</code>" in html
    assert '<td class="when">every minute</td>' in html
    assert '<td class="when">daily at 04:00<br>' in html  # celery.backend_cleanup


# --- System tasks ----------------------------------------------------------------------------


def test_system_tasks_are_marked_and_say_what_switching_them_off_means(panel, beat_defaults):
    html = page(panel.get(reverse("lake:schedules")))
    assert html.count('<span class="badge system">system task</span>') == 2
    for task in PeriodicTask.objects.filter(name__in=[REAPER, CLEANUP]):
        note = escape(schedules.SYSTEM_TASKS[task.task])
        toggle = reverse("lake:schedule-toggle", args=[task.pk])
        form = html[html.index(f'action="{toggle}"') :][:1000]
        # Switching it off asks first, with what it means.
        assert f'data-confirm="Switch off “{task.name}”? {note}"' in form
    assert "Off: nothing is lost here" in schedules.SYSTEM_TASKS["celery.backend_cleanup"]


def test_system_tasks_switch_off_and_stay_off_when_beat_starts_again(panel, beat_defaults):
    for name in (REAPER, CLEANUP):
        task = PeriodicTask.objects.get(name=name)
        response = panel.post(
            reverse("lake:schedule-toggle", args=[task.pk]), {"enabled": "false"}, follow=True
        )
        assert f"“{name}” is off." in page(response)
    beat_starts()  # again
    assert not PeriodicTask.objects.filter(name__in=[REAPER, CLEANUP], enabled=True).exists()
    html = page(panel.get(reverse("lake:schedules")))
    assert html.count('aria-checked="false"') == 2
    # Switching back on needs no confirmation.
    reaper = PeriodicTask.objects.get(name=REAPER)
    toggle = reverse("lake:schedule-toggle", args=[reaper.pk])
    assert "data-confirm" not in html[html.index(f'action="{toggle}"') :][:300]


# --- The audit of schedule changes -----------------------------------------------------------


def test_a_schedule_switched_in_the_panel_is_in_the_audit_with_the_user(panel, manager):
    task = PeriodicTask.objects.get(name="Nightly full lake run")
    panel.post(reverse("lake:schedule-toggle", args=[task.pk]), {"enabled": "false"})

    html = one_line(page(panel.get(reverse("lake:audit"))))
    section = html[html.index('<h2 id="schedule-changes">') :]
    row = section[section.index("<tbody>") : section.index("</tbody>")]
    assert "Nightly full lake run" in row and "<strong>manager</strong>" in row
    assert "Turned off from the control panel." in row
    # The admin's history of the task says the same.
    entry = LogEntry.objects.get(object_id=str(task.pk))
    assert entry.get_change_message() == "Turned off from the control panel."


def test_schedule_changes_in_the_admin_are_in_the_audit_and_the_user_filter(panel, clerk):
    interval = IntervalSchedule.objects.create(every=10, period="minutes")
    task = PeriodicTask.objects.create(name="Ten-minute run", task="t", interval=interval)
    LogEntry.objects.log_actions(
        user_id=clerk.pk,
        queryset=[task],
        action_flag=ADDITION,
        change_message='[{"added": {}}]',
        single_object=True,
    )
    html = one_line(page(panel.get(reverse("lake:audit"), {"user": "clerk"})))
    section = html[html.index('<h2 id="schedule-changes">') :]
    assert "Ten-minute run" in section and "<strong>clerk</strong>" in section
    assert '<span class="badge action">added</span>' in section
    # A run action chosen: run events only.
    html = page(panel.get(reverse("lake:audit"), {"action": "triggered"}))
    assert 'id="schedule-changes"' not in html
    assert ContentType.objects.get_for_model(PeriodicTask).model == "periodictask"


# --- Runs started from the command line -----------------------------------------------------


@pytest.fixture
def quick_runs(monkeypatch):
    """``lake run`` without the pipeline: the run succeeds at once."""

    def execute(run, as_of=None):
        run.status = PipelineRun.Status.SUCCEEDED
        run.started_at = run.finished_at = timezone.now()
        run.save()
        return run

    monkeypatch.setattr("lake.engines.local.pipeline_run_execute", execute)


def test_a_run_from_the_command_line_says_so_with_the_os_user(panel, quick_runs):
    call_command("lake", "run")
    run = PipelineRun.objects.get()
    assert run.trigger == PipelineRun.Trigger.COMMAND and run.requested_by is None
    assert run.os_user == getpass.getuser()
    event = run.events.get(action=PipelineRunEvent.Action.TRIGGERED)
    assert event.message == f"Full run triggered from the command line by OS user {run.os_user}."

    run_page = one_line(page(panel.get(reverse("lake:run", args=[run.pk]))))
    assert f"<dt>Trigger</dt><dd>command line, by OS user <strong>{run.os_user}</strong>" in (
        run_page
    )
    audit = one_line(page(panel.get(reverse("lake:audit"))))
    assert f'<strong>{run.os_user}</strong> <span class="help">(OS user, command line)</span>' in (
        audit
    )
    runs = one_line(page(panel.get(reverse("lake:runs"), {"trigger": "command"})))
    assert f'{run.os_user} <span class="help">(OS user)</span>' in runs


def test_a_run_from_the_panel_is_not_taken_for_the_command_line(panel, manager):
    panel.post(reverse("lake:trigger"), {"mode": "incremental"})
    run = PipelineRun.objects.get()
    assert run.trigger == PipelineRun.Trigger.MANUAL and run.os_user == ""
    event = run.events.get()
    assert event.message == "Full run triggered from the control panel."
    assert event.user == manager
