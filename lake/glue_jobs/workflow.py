"""The workflow run properties the jobs read and write (the contract in
``lake/glue_jobs/__init__.py``), and where a run's files go."""

import json
from dataclasses import dataclass, field
from datetime import datetime

# The arguments each job reads (getResolvedOptions): Glue passes WORKFLOW_NAME
# and WORKFLOW_RUN_ID to a job a workflow starts; lake/aws/assets.py sets the rest.
WORKFLOW_OPTIONS = ("WORKFLOW_NAME", "WORKFLOW_RUN_ID")
JOB_OPTIONS = {
    "extract": (
        "lake_warehouse", "glue_database", "connection_name", "time_zone",
        "overlap_seconds", "batch_rows", "read_partitions", "partition_rows",
    ),
    "marts": ("lake_warehouse", "glue_database"),
}  # fmt: skip
ERROR_NOT_IN_WORKFLOW = (
    "This job runs only inside the lake's Glue workflow, which gives it --WORKFLOW_NAME and "
    "--WORKFLOW_RUN_ID: start a run from the app (LAKE_ENGINE=glue), not the job alone."
)
ERROR_MISSING = (
    "Workflow run property {name!r} is missing: the app sets it when it starts a run "
    "(lake/engines/glue.py); this job runs only inside the lake's Glue workflow."
)
ERROR_INVALID = "Workflow run property {name!r} is not valid: {problem} (value: {value!r})."


@dataclass(frozen=True)
class RunProperties:
    run_id: int
    full: bool
    watermarks_from: dict[str, datetime]  # table -> last extracted up to
    published_snapshots: dict[str, int]  # "staging.<table>" -> snapshot id
    changed_rows: dict[str, int]  # table -> rows changed (set by the extract job)
    as_of: datetime | None = None  # late fees of open rentals accrue to this local time
    # table -> of its changed rows, those deleted at the source (set by the extract job)
    deleted_rows: dict[str, int] = field(default_factory=dict)


def parse_run_properties(properties: dict[str, str]) -> RunProperties:
    """The run's properties, checked: a clear error names a missing or bad one."""

    def required(name: str) -> str:
        if name not in properties:
            raise ValueError(ERROR_MISSING.format(name=name))
        return properties[name]

    def invalid(name: str, problem: object) -> ValueError:
        return ValueError(ERROR_INVALID.format(name=name, problem=problem, value=properties[name]))

    def mapping(name: str, convert) -> dict:
        try:
            data = json.loads(properties[name])
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            return {str(key): convert(value) for key, value in data.items()}
        except (ValueError, TypeError) as error:
            raise invalid(name, error) from None

    for name in ("run_id", "full", "watermarks_from", "published_snapshots"):
        required(name)
    if not properties["run_id"].isdigit():
        raise invalid("run_id", "not a number")
    if properties["full"] not in ("true", "false"):
        raise invalid("full", "not true/false")
    return RunProperties(
        run_id=int(properties["run_id"]),
        full=properties["full"] == "true",
        watermarks_from=mapping("watermarks_from", datetime.fromisoformat),
        published_snapshots=mapping("published_snapshots", int),
        changed_rows=mapping("changed_rows", int) if "changed_rows" in properties else {},
        as_of=_as_of(properties.get("as_of"), invalid),
        deleted_rows=mapping("deleted_rows", int) if "deleted_rows" in properties else {},
    )


def _as_of(value: str | None, invalid) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError as error:
        raise invalid("as_of", error) from None


def timestamps_json(values: dict[str, datetime]) -> str:
    """{table: time} as the app writes watermarks ("2005-05-24 22:53:30")."""
    return json.dumps({name: value.isoformat(" ") for name, value in sorted(values.items())})


def counts_json(values: dict[str, int]) -> str:
    return json.dumps(dict(sorted(values.items())))


def raw_uri(warehouse: str, table: str, run_id: int) -> str:
    """Where a run's extract of a table goes: the raw zone, as the local engine lays it."""
    return f"{warehouse.rstrip('/')}/raw/{table}/run_id={run_id}"


def changes_uri(warehouse: str, table: str, run_id: int) -> str:
    """Where the extract job leaves a run's changed rows of a table for the marts
    job: in the staging zone (the jobs' role writes there; the crawler reads
    only the raw zone), beside the staging tables."""
    return f"{warehouse.rstrip('/')}/staging/_changes/run_id={run_id}/{table}"


def deleted_uri(warehouse: str, table: str, run_id: int) -> str:
    """Where the extract job records a run's rows of a table deleted at the
    source (their old values), beside its changed rows: a rerun of the run
    finds them there once staging no longer has them."""
    return f"{warehouse.rstrip('/')}/staging/_changes/run_id={run_id}/deleted/{table}"


def delete_changes(s3, warehouse: str, run_id: int) -> int:
    """Delete a run's changed rows (``s3``: a boto3 S3 client) once the marts
    are built from them: nothing reads them again. How many files went."""
    bucket, _, key = warehouse.removeprefix("s3://").partition("/")
    prefix = changes_uri(key, "", run_id).lstrip("/")  # ".../run_id=<n>/": this run only
    deleted = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        objects = [{"Key": item["Key"]} for item in page.get("Contents", [])]
        if objects:  # a page holds at most 1,000 keys, as many as one delete takes
            s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
            deleted += len(objects)
    return deleted


def require_workflow(argv: list[str]) -> None:
    """Stop with a clear message when the job was started outside its workflow."""
    if not all(f"--{option}" in argv for option in WORKFLOW_OPTIONS):
        raise SystemExit(ERROR_NOT_IN_WORKFLOW)


def get_run_properties(glue, workflow: str, workflow_run_id: str) -> RunProperties:
    """The properties of the workflow run this job belongs to (``glue``: a boto3 Glue client)."""
    response = glue.get_workflow_run_properties(Name=workflow, RunId=workflow_run_id)
    return parse_run_properties(response["RunProperties"])


def put_run_properties(glue, workflow: str, workflow_run_id: str, values: dict[str, str]) -> None:
    glue.put_workflow_run_properties(Name=workflow, RunId=workflow_run_id, RunProperties=values)
