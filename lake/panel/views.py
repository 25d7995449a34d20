"""The lake control panel (/lake/): runs, freshness, catalog, schedules, audit.

Views check the permission, validate input, call one service or selector and
render. Seeing the panel needs ``lake.view_pipelinerun``; triggering a run
``lake.add_pipelinerun``; cancelling ``lake.change_pipelinerun``; retrying and
resuming both; turning a schedule on or off ``django_celery_beat.change_periodictask``.
"""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_POST
from django_celery_beat.models import PeriodicTask
from django_htmx.http import HttpResponseClientRefresh

from lake import alerts, selectors, services
from lake.catalog import CatalogUnavailable
from lake.models import PipelineRun
from lake.panel import catalog as catalog_browser
from lake.panel import schedules
from lake.panel.forms import (
    AlertSubscriptionForm,
    EventFilterForm,
    PipelineRunFilter,
    PublishAnywayForm,
    ScheduleToggleForm,
    TriggerForm,
)
from lake.panel.pictures import duration_chart, step_timeline, watermark_rows

VIEW_RUNS = "lake.view_pipelinerun"
ADD_RUN = "lake.add_pipelinerun"
CHANGE_RUN = "lake.change_pipelinerun"
VIEW_SCHEDULES = "django_celery_beat.view_periodictask"
CHANGE_SCHEDULES = "django_celery_beat.change_periodictask"

NO_PERMISSION = "The lake control panel is for managers."
ALREADY_RUNNING = '{error} <a href="{url}">Watch run {run_id}</a>.'
RUNS_PER_PAGE = 25
EVENTS_PER_PAGE = 50
RETRYABLE = services.ENDED


def lake_view(*perms: str) -> Callable:
    """Login, ``lake.view_pipelinerun`` and ``perms``: else the login page, or 403.

    A live part polled after the session ended reloads its page (which then
    goes to the login page) rather than showing the login form inside itself.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        def allowed(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.has_perms((VIEW_RUNS, *perms)):
                raise PermissionDenied(NO_PERMISSION)
            return view(request, *args, **kwargs)

        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.htmx and not request.user.is_authenticated:
                return HttpResponseClientRefresh()
            return allowed(request, *args, **kwargs)

        return wrapper

    return decorator


# --- Runs ----------------------------------------------------------------------------------


@lake_view()
@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    """Runs, filtered by the URL's status, trigger and dates; live while one is active."""
    params = request.GET.copy()
    params.pop("page", None)
    run_filter = PipelineRunFilter(params or None, queryset=selectors.pipeline_run_list())
    page = Paginator(run_filter.qs, RUNS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "section": "runs",
        "filter": run_filter,
        "filtered": bool(params),
        "page": page,
        "active": selectors.active_run(),
        # The trend of the runs the filters chose (all runs when none).
        "chart": duration_chart(
            selectors.pipeline_run_recent_list(runs=None if run_filter.errors else run_filter.qs)
        ),
        "trigger_form": TriggerForm(),
        **_worker_context(),
    }
    template = "lake/_runs_live.html" if request.htmx else "lake/runs.html"
    return render(request, template, context, status=400 if run_filter.errors else 200)


@lake_view(ADD_RUN)
@require_POST
def run_trigger(request: HttpRequest) -> HttpResponse:
    form = TriggerForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose an incremental or a full run.")
        return redirect("lake:runs")
    try:
        run = services.pipeline_run_request(
            full=form.full, trigger=PipelineRun.Trigger.MANUAL, user=request.user
        )
    except services.AlreadyRunning as error:
        url = reverse("lake:run", args=[error.run.pk])
        messages.warning(
            request, format_html(ALREADY_RUNNING, error=str(error), url=url, run_id=error.run.pk)
        )
        return redirect("lake:runs")
    kind = "full" if run.full else "incremental"
    # Worded to stay true while the page below shows the run going on and ending.
    messages.success(request, f"You started run {run.pk} ({kind}).")
    return redirect("lake:run", run_id=run.pk)


def _worker_context() -> dict:
    """What the "no worker is running" banner needs (templates/lake/_worker_banner.html)."""
    return {
        "worker": selectors.worker_status(),
        "run_stale_minutes": settings.LAKE_RUN_STALE_SECONDS / 60,
    }


def _run_context(request: HttpRequest, run: PipelineRun) -> dict:
    steps = list(selectors.pipeline_step_list(run=run))
    # "extract <table>" steps break the extract step down: shown apart, under it.
    extracts = [step for step in steps if step.name.startswith("extract ")]
    main = [step for step in steps if not step.name.startswith("extract ")]
    user = request.user
    now = timezone.now()
    may_resume = user.has_perms((ADD_RUN, CHANGE_RUN))
    checks = selectors.pipeline_check_list(run=run)
    return {
        "section": "runs",
        "run": run,
        "elapsed": (now - run.started_at).total_seconds() if run.started_at else None,
        "timeline": step_timeline(run, main),
        "extracts": extracts,
        "events": selectors.pipeline_run_event_list(run=run),
        "retries": selectors.pipeline_run_retry_list(run=run),
        "can_cancel": run.is_active and user.has_perm(CHANGE_RUN),
        "can_retry": run.status in RETRYABLE and user.has_perm(CHANGE_RUN),
        # The step a resume starts from (Glue runs), for those who may start runs.
        "resume_from": services.pipeline_run_resume_step(run) if may_resume else None,
        "checks": checks,
        "checks_outcome": ", ".join(
            f"{sum(check.status == status for check in checks)} {status}"
            for status in ("failed", "error", "warned")
            if any(check.status == status for check in checks)
        ),
        "can_publish_anyway": (
            run.status == PipelineRun.Status.CHECKS_FAILED and user.has_perms((ADD_RUN, CHANGE_RUN))
        ),
        "publish_form": PublishAnywayForm(),
        "watermarks": watermark_rows(run),
        "snapshots": [
            (*identifier.partition(".")[::2], identifier, snapshot_id)
            for identifier, snapshot_id in sorted(run.snapshots.items())
        ],
        **_worker_context(),
    }


@lake_view()
@require_GET
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(selectors.pipeline_run_detail_list(), pk=run_id)
    return render(request, "lake/run_detail.html", _run_context(request, run))


@lake_view()
@require_GET
def run_live(request: HttpRequest, run_id: int) -> HttpResponse:
    """The live part of a run's page (htmx polls it every second while the run is active;
    once it has ended, the fragment comes back without the polling attributes)."""
    run = get_object_or_404(selectors.pipeline_run_detail_list(), pk=run_id)
    return render(request, "lake/_run_live.html", _run_context(request, run))


@lake_view(CHANGE_RUN)
@require_POST
def run_cancel(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(PipelineRun, pk=run_id)
    try:
        run = services.pipeline_run_cancel(run=run, user=request.user)
    except services.RunStateError as error:
        messages.error(request, str(error))
    else:
        if run.status == PipelineRun.Status.CANCELLED:
            messages.success(request, f"Run {run.pk} cancelled.")
        else:
            messages.success(
                request, f"Cancel requested: run {run.pk} stops at its next step boundary."
            )
    return redirect("lake:run", run_id=run.pk)


@lake_view(ADD_RUN, CHANGE_RUN)
@require_POST
def run_retry(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(PipelineRun, pk=run_id)
    retry = _new_run(request, run, services.pipeline_run_retry)
    if retry is None:
        return redirect("lake:run", run_id=run.pk)
    messages.success(request, f"Run {run.pk} retried as run {retry.pk}.")
    return redirect("lake:run", run_id=retry.pk)


@lake_view(ADD_RUN, CHANGE_RUN)
@require_POST
def run_resume(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(PipelineRun, pk=run_id)
    resumed = _new_run(request, run, services.pipeline_run_resume)
    if resumed is None:
        return redirect("lake:run", run_id=run.pk)
    if resumed.status == PipelineRun.Status.FAILED:
        messages.error(request, f"Run {resumed.pk} could not resume run {run.pk}: {resumed.error}")
    else:
        messages.success(request, f"Run {run.pk} resumed as run {resumed.pk}.")
    return redirect("lake:run", run_id=resumed.pk)


@lake_view(ADD_RUN, CHANGE_RUN)
@require_POST
def run_publish_anyway(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(PipelineRun, pk=run_id)
    form = PublishAnywayForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Not published: {form.errors['reason'][0]}")
        return redirect("lake:run", run_id=run.pk)
    published = _refused_or(
        request,
        lambda: services.pipeline_run_publish_anyway(
            run=run, user=request.user, reason=form.cleaned_data["reason"]
        ),
    )
    if published is not None:
        messages.success(request, f"Run {run.pk} published although its checks failed.")
    return redirect("lake:run", run_id=run.pk)


def _new_run(
    request: HttpRequest, run: PipelineRun, service: Callable[..., PipelineRun]
) -> PipelineRun | None:
    """The run ``service`` (retry, resume) made from ``run``; None, with the reason
    shown, when it refused."""
    return _refused_or(
        request,
        lambda: service(run=run, user=request.user, trigger=PipelineRun.Trigger.MANUAL),
    )


def _refused_or(request: HttpRequest, call: Callable[[], PipelineRun]) -> PipelineRun | None:
    """What ``call`` (a service acting on a run) returns; None, with the reason
    shown, when it refused."""
    try:
        return call()
    except services.RunStateError as error:
        messages.error(request, str(error))
    except services.AlreadyRunning as error:
        url = reverse("lake:run", args=[error.run.pk])
        messages.warning(
            request, format_html(ALREADY_RUNNING, error=str(error), url=url, run_id=error.run.pk)
        )
    return None


# --- Alerts, freshness, schedules, audit, catalog ------------------------------------------


@lake_view()
def alert_list(request: HttpRequest) -> HttpResponse:
    """Recent alerts and their deliveries; the user's own choice of alerts (POST)."""
    subscription = alerts.alert_subscription_get(user=request.user)
    form = AlertSubscriptionForm(request.POST or None, instance=subscription)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, "Your alert choices are saved.")
            return redirect("lake:alerts")
    elif request.method != "GET":
        return HttpResponse(status=405)
    return render(
        request,
        "lake/alerts.html",
        {
            "section": "alerts",
            "alerts": selectors.alert_list(),
            "form": form,
            "email": request.user.email,
            "webhook": bool(settings.ALERT_WEBHOOK_URL),
        },
    )


@lake_view()
@require_GET
def freshness(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "lake/freshness.html",
        {
            "section": "freshness",
            "lake": selectors.lake_freshness_get(),
            "trigger_form": TriggerForm(),
        },
    )


@lake_view(VIEW_SCHEDULES)
@require_GET
def schedule_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "lake/schedules.html",
        {
            "section": "schedules",
            "schedules": schedules.schedule_list(),
            "time_zone": settings.TIME_ZONE,
            "can_change": request.user.has_perm(CHANGE_SCHEDULES),
        },
    )


@lake_view(VIEW_SCHEDULES, CHANGE_SCHEDULES)
@require_POST
def schedule_toggle(request: HttpRequest, task_id: int) -> HttpResponse:
    task = get_object_or_404(PeriodicTask, pk=task_id)
    form = ScheduleToggleForm(request.POST, instance=task)
    if not form.is_valid():
        messages.error(request, f"Choose on or off for “{task.name}”.")
        return redirect("lake:schedules")
    try:
        services.schedule_save(task=form.instance, user=request.user)
    except ValidationError as error:
        messages.error(request, f"“{task.name}” cannot be saved: {' '.join(error.messages)}")
    else:
        state = "on" if task.enabled else "off"
        messages.success(request, f"“{task.name}” is {state}.")
    return redirect("lake:schedules")


@lake_view()
@require_GET
def audit(request: HttpRequest) -> HttpResponse:
    params = request.GET.copy()
    params.pop("page", None)
    form = EventFilterForm(params or None)
    form.is_valid()  # a bad value is reported; the other filters still apply
    chosen = getattr(form, "cleaned_data", {})
    events = selectors.pipeline_run_event_list(
        action=chosen.get("action") or "", user=chosen.get("user")
    )
    page = Paginator(events, EVENTS_PER_PAGE).get_page(request.GET.get("page"))
    # Schedule changes (who switched or edited which schedule), unless only run actions are asked.
    schedule_changes = None
    if not chosen.get("action"):
        changes = schedules.schedule_change_list(user=chosen.get("user"))
        schedule_changes = changes[:EVENTS_PER_PAGE]
    return render(
        request,
        "lake/audit.html",
        {
            "section": "audit",
            "form": form,
            "page": page,
            "filtered": bool(params),
            "schedule_changes": schedule_changes,
        },
        status=400 if form.errors else 200,
    )


@lake_view()
@require_GET
def catalog(request: HttpRequest) -> HttpResponse:
    try:
        tables = catalog_browser.catalog_table_list()
    except CatalogUnavailable as error:
        return _catalog_unavailable(request, error)
    zones = [
        (zone, [table for table in tables if table.zone == zone]) for zone in catalog_browser.ZONES
    ]
    return render(request, "lake/catalog.html", {"section": "catalog", "zones": zones})


def _catalog_unavailable(request: HttpRequest, error: CatalogUnavailable) -> HttpResponse:
    context = {"section": "catalog", "zones": [], "error": str(error)}
    return render(request, "lake/catalog.html", context, status=503)


@lake_view()
@require_GET
def catalog_table(request: HttpRequest, zone: str, name: str) -> HttpResponse:
    try:
        table = catalog_browser.catalog_table_get(zone=zone, name=name)
    except CatalogUnavailable as error:
        return _catalog_unavailable(request, error)
    if table is None:
        raise Http404(f"No table {zone}.{name} in the lake's catalog.")
    return render(request, "lake/catalog_table.html", {"section": "catalog", "table": table})
