"""A report page's filters: what the URL asks for (parameters, the run to read as
of, the sort), cleaned and validated the same way as the API's and the command's."""

from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.text import slugify

from lake import selectors
from lake.models import PipelineRun
from lake.query import QueryError
from reports.registry import Report, report_params_clean, report_run_get, report_store_list

TIME_TRAVEL_RUNS = 50  # the latest succeeded runs offered as "as of"


@dataclass
class FilterField:
    name: str
    label: str
    kind: str  # "date", "store", "int" or "run"
    value: str
    errors: list[str] = field(default_factory=list)
    options: list[tuple[str, str]] = field(default_factory=list)  # (value, label) of a select
    minimum: int | None = None
    maximum: int | None = None
    help: str = ""


@dataclass
class Filters:
    """What the URL asks for, cleaned; the form's fields with their errors."""

    fields: list[FilterField]
    params: dict  # the cleaned report parameters ({} when there are errors)
    as_of_run: PipelineRun | None
    stores: dict[int, str]
    errors: dict[str, list[str]]

    @property
    def description(self) -> str:
        """The filters in words, for the page and the CSV's notes."""
        params = self.params
        start, end = params.get("start"), params.get("end")
        if start and end:
            period = f"rentals from {start} to {end}"
        elif start or end:
            period = f"rentals from {start}" if start else f"rentals up to {end}"
        else:
            period = "all rentals"
        parts = [period] if "start" in params or "end" in params else []
        if "store" in params:
            store = params["store"]
            name = self.stores.get(store, "?")
            parts.append(f"store {store} ({name})" if store else "all stores")
        parts += [
            f"{param} {value}"
            for param, value in params.items()
            if param not in ("start", "end", "store") and value is not None
        ]
        return ", ".join(parts)

    @property
    def slug(self) -> str:
        """The filters in a file name."""
        params = self.params
        parts = [
            f"{params.get('start') or 'first'}_to_{params.get('end') or 'last'}"
            if "start" in params
            else "",
            f"store-{params['store']}" if params.get("store") else "",
            f"top-{params['top']}" if params.get("top") else "",
            f"film-{params['film']}" if params.get("film") else "",
            f"customer-{params['customer']}" if params.get("customer") else "",
            f"category-{slugify(params['category'])}" if params.get("category") else "",
        ]
        return "_".join(part for part in parts if part)


def time_travel_runs() -> list[PipelineRun]:
    """Runs whose snapshots can still be read, newest first: what a report can be
    shown as of (maintenance retires runs older than the retention window)."""
    runs = selectors.pipeline_run_list().filter(status=PipelineRun.Status.SUCCEEDED)
    return list(runs.exclude(snapshots={}).filter(snapshots_expired=False)[:TIME_TRAVEL_RUNS])


def time_travel_reach() -> str:
    """How far back time travel goes, in words."""
    oldest = selectors.oldest_readable_run()
    if oldest is None:
        return ""
    return (
        f"Back to run {oldest.pk} ({oldest.finished_at:%Y-%m-%d %H:%M}): older runs leave "
        f"after {settings.LAKE_RETENTION_DAYS:g} days."
    )


def _store_names(snapshots: dict) -> dict[int, str]:
    """The lake's stores at ``snapshots``: id -> "city, country" (none if unreadable)."""
    try:
        return report_store_list(snapshots)
    except QueryError:
        return {}


def filters_clean(report: Report, raw, *, time_travel: bool = True) -> Filters:
    """The report's parameters and the run to read, from the query string."""
    errors: dict[str, list[str]] = {}
    runs = time_travel_runs() if time_travel else []
    as_of_run = None
    run_value = (raw.get("as_of_run") or "").strip()
    if run_value and time_travel:
        try:
            as_of_run = report_run_get(run_value)
        except ValidationError as error:
            errors.update(error.message_dict)
    try:
        params = report_params_clean(report, raw)
    except ValidationError as error:
        errors.update(error.message_dict)
        params = {}
    published = runs[0] if runs else selectors.published_run()
    snapshots = (as_of_run or published).snapshots if (as_of_run or published) else {}
    stores = _store_names(snapshots) if any(p.kind == "store" for p in report.params) else {}

    fields = []
    for param in report.params:
        value = raw.get(param.name)
        if value is None:
            value = "" if param.default is None else str(param.default)
        options = [(str(pk), f"{pk}: {name}") for pk, name in stores.items()]
        fields.append(
            FilterField(
                name=param.name,
                label=param.label,
                kind=param.kind,
                value=value.strip(),
                errors=errors.get(param.name, []),
                options=options if param.kind == "store" else [],
                minimum=param.minimum,
                maximum=param.maximum,
            )
        )
    if time_travel:
        if as_of_run is not None and as_of_run not in runs:
            runs.append(as_of_run)  # older than those offered, asked for by its id
        options = [(str(run.pk), f"Run {run.pk}, {run.finished_at:%Y-%m-%d %H:%M}") for run in runs]
        run_field = FilterField("as_of_run", "As of", "run", run_value, options=options)
        run_field.errors, run_field.help = errors.get("as_of_run", []), time_travel_reach()
        fields.append(run_field)
    return Filters(fields, {} if errors else params, as_of_run, stores, errors)
