"""A run's page: Cancel asks first, and every step shows what it logged."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from lake.models import PipelineRun, PipelineStep

pytestmark = pytest.mark.django_db

Status = PipelineRun.Status


@pytest.fixture
def panel(client, manager, lake) -> Client:
    client.force_login(manager)
    return client


def run_with_steps(status: str, *steps: tuple[str, str, str, str]) -> PipelineRun:
    """A run with (name, status, log, error) steps, a second apart."""
    started = timezone.now() - timedelta(minutes=1)
    run = PipelineRun.objects.create(
        status=status,
        started_at=started,
        finished_at=None if status in PipelineRun.ACTIVE else started + timedelta(seconds=30),
    )
    for position, (name, step_status, log, error) in enumerate(steps):
        PipelineStep.objects.create(
            run=run,
            name=name,
            position=position,
            status=step_status,
            started_at=started + timedelta(seconds=position),
            finished_at=None
            if step_status == "running"
            else started + timedelta(seconds=position + 1),
            log=log,
            error=error,
        )
    return run


def run_page(panel, run) -> str:
    return panel.get(reverse("lake:run", args=[run.pk])).content.decode()


def test_cancel_asks_for_confirmation_first(panel):
    run = run_with_steps(Status.RUNNING, ("extract", "running", "", ""))
    html = run_page(panel, run)
    form = re.search(r'<form method="post" action="/lake/runs/\d+/cancel/"[^>]*>', html)[0]
    assert f'data-confirm="Cancel run {run.pk}? It stops at its next step' in form
    assert 'src="/static/js/confirm.js"' in html
    script = (Path(settings.BASE_DIR) / "static" / "js" / "confirm.js").read_text()
    assert "window.confirm" in script and "preventDefault" in script


def test_the_run_page_has_no_inline_script_or_style(panel):
    """What a Content-Security-Policy without 'unsafe-inline' still shows: the step
    timeline is drawn with SVG attributes, not style attributes."""
    run = run_with_steps(
        Status.RUNNING, ("extract", "succeeded", "", ""), ("stage a", "running", "", "")
    )
    html = run_page(panel, run)
    assert not re.search(r"\s(style|on[a-z]+)=", html)
    assert '<svg class="track"' in html and '<rect class="span status-running"' in html


def test_every_steps_log_is_shown(panel):
    run = run_with_steps(
        Status.FAILED,
        ("extract", "succeeded", "8 tables read in one snapshot", ""),
        ("stage rental", "succeeded", "16044 rows read, 3 new or changed", ""),
        (
            "fact_sales",
            "failed",
            "Traceback (most recent call last):\n  File x\nValueError: bad row",
            "ValueError: bad row",
        ),
    )
    html = run_page(panel, run)
    assert '<th scope="col">Log</th>' in html
    assert '<td class="step-log">8 tables read in one snapshot</td>' in html
    assert '<td class="step-log">16044 rows read, 3 new or changed</td>' in html
    # A failed step's whole log (its traceback) is open under it, with the error.
    assert '<td class="step-log">Traceback (most recent call last):</td>' in html
    assert (
        '<pre class="log" aria-label="Log of fact_sales">Traceback (most recent call last):\n'
        "  File x\nValueError: bad row</pre>"
    ) in html
    assert '<pre class="error-text">ValueError: bad row</pre>' in html


def test_a_long_log_of_a_step_that_succeeded_folds_away(panel):
    run = run_with_steps(
        Status.SUCCEEDED, ("crawl", "succeeded", "3 raw tables\nrental: 1 new", "")
    )
    html = run_page(panel, run)
    assert '<td class="step-log">3 raw tables</td>' in html
    step = run.steps.get()
    assert (
        f'<details id="log-{step.pk}" hx-preserve><summary>The whole log of crawl</summary>'
        '<pre class="log">3 raw tables\nrental: 1 new</pre></details>'
    ) in html
