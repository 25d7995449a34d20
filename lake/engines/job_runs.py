"""The run properties of the engines that run the job scripts of
``lake.glue_jobs`` (Glue, Spark): what the app sets when it starts a run, and
what it reads back of what the jobs set (the contract in ``lake.glue_jobs``).
"""

import json
import logging
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from lake import selectors
from lake.core.checks import CheckResult, results_from_json
from lake.models import PipelineRun
from lake.pipeline.schemas import STAGED_MODELS, table_name

logger = logging.getLogger(__name__)

ERROR_PROPERTY = "The workflow run property {name} {problem} (set by the {job} job)."
# Where each job puts its rows per table (see lake.glue_jobs).
ROWS_PROPERTIES = {"extract": "extract_rows", "marts": "mart_rows"}
# The extract job's rows per table, shown as steps under it.
EXTRACT_BREAKDOWN = (("extract", "extract_rows"), ("stage", "changed_rows"))


class JobContractError(Exception):
    """A run property is missing or not what ``lake.glue_jobs`` says."""


def run_properties(run: PipelineRun, *, as_of: datetime | None = None) -> dict[str, str]:
    """The run properties the app sets (see ``lake.glue_jobs``). Late fees of
    open rentals accrue to ``as_of``, by default when the run started (local
    time, as rental dates): the jobs' own clock is UTC."""
    published = selectors.published_snapshots()
    as_of = as_of or (run.started_at or timezone.now()).replace(microsecond=0)
    if timezone.is_aware(as_of):
        as_of = timezone.make_naive(as_of)
    properties = {
        "run_id": str(run.pk),
        "full": "true" if run.full or not published else "false",
        "watermarks_from": json.dumps(run.watermarks_from, sort_keys=True),
        "published_snapshots": json.dumps(published, sort_keys=True),
        "as_of": as_of.isoformat(" "),
    }
    if settings.LAKE_FAULT_INJECTION.startswith("marts:"):  # tests only
        properties["fault"] = settings.LAKE_FAULT_INJECTION
    return properties


def check_results(properties: dict) -> list[CheckResult]:
    """The marts job's checks (``check_results``); a job that wrote none ran
    none, which blocks the publish as a failed check does."""
    if "check_results" not in properties:
        raise JobContractError(
            ERROR_PROPERTY.format(name="check_results", problem="is missing", job="marts")
        )
    try:
        return results_from_json(properties["check_results"])
    except (ValueError, TypeError, KeyError) as error:
        problem = f"is not the checks' results ({error})"
        raise JobContractError(
            ERROR_PROPERTY.format(name="check_results", problem=problem, job="marts")
        ) from None


def _json_property(properties: dict, name: str, job: str) -> dict | None:
    if name not in properties:
        return None
    try:
        value = json.loads(properties[name])
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise JobContractError(
            ERROR_PROPERTY.format(name=name, problem="is not a JSON object", job=job)
        )
    return value


def rows_property(properties: dict, name: str, job: str) -> dict[str, int] | None:
    """Rows per table from a run property; counts are shown, not relied on: a
    malformed value is logged and left out."""
    if not name:
        return None
    try:
        value = _json_property(properties, name, job)
        return {str(table): int(rows) for table, rows in (value or {}).items()} or None
    except (JobContractError, TypeError, ValueError) as error:
        logger.warning("ignoring the run property %s: %s", name, error)
        return None


def extract_breakdown(properties: dict) -> list[tuple[str, int]]:
    """The extract job's rows per table, as the local engine's steps name them:
    "extract <table>" (rows read), then "stage <table>" (rows merged into staging)."""
    breakdown = []
    for prefix, name in EXTRACT_BREAKDOWN:
        by_table = rows_property(properties, name, "extract") or {}
        breakdown += [(f"{prefix} {table}", rows) for table, rows in sorted(by_table.items())]
    return breakdown


def watermarks_to(properties: dict) -> dict[str, datetime]:
    """The extract job's ``watermarks_to``, as the site stores times (naive, in TIME_ZONE)."""
    value = _json_property(properties, "watermarks_to", "extract")
    if value is None:
        raise JobContractError(
            ERROR_PROPERTY.format(name="watermarks_to", problem="is missing", job="extract")
        )
    try:
        watermarks = {table: _naive(datetime.fromisoformat(iso)) for table, iso in value.items()}
    except (TypeError, ValueError) as error:
        problem = f"has a value that is not an ISO timestamp ({error})"
        raise JobContractError(
            ERROR_PROPERTY.format(name="watermarks_to", problem=problem, job="extract")
        ) from None
    if missing := sorted({table_name(model) for model in STAGED_MODELS} - watermarks.keys()):
        problem = f"has no watermark for {', '.join(missing)}"
        raise JobContractError(
            ERROR_PROPERTY.format(name="watermarks_to", problem=problem, job="extract")
        )
    return watermarks


def _naive(value: datetime) -> datetime:
    return timezone.make_naive(value) if timezone.is_aware(value) else value
