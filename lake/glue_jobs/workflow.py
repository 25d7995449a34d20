"""The run properties the jobs read and write (the contract in
``lake/glue_jobs/__init__.py``; lake/glue_jobs/runtime.py keeps them where the
job runs), and where a run's files go."""

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# The arguments each job reads, wherever it runs (lake/glue_jobs/runtime.py adds
# how it logs in to the rental database); lake/aws/assets.py sets them on Glue,
# lake/engines/spark.py on Spark.
JOB_OPTIONS = {
    "extract": (
        "lake_warehouse", "catalog_name", "staging_namespace", "marts_namespace", "time_zone",
        "overlap_seconds", "batch_rows", "read_partitions", "partition_rows",
    ),
    "marts": ("lake_warehouse", "catalog_name", "staging_namespace", "marts_namespace"),
}  # fmt: skip
ERROR_MISSING = (
    "Workflow run property {name!r} is missing: the app sets it when it starts a run "
    "(lake/engines/glue.py, lake/engines/spark.py); start a run from the app."
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
    fault: str = ""  # tests only: the app's LAKE_FAULT_INJECTION for the marts job


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
        fault=properties.get("fault", ""),
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


def delete_changes(spark: "SparkSession", warehouse: str, run_id: int) -> bool:
    """Delete a run's changed rows once the marts are built from them: nothing
    reads them again. Through Spark's Hadoop filesystem, which reaches the
    warehouse wherever it is (S3 on Glue); whether there was anything to delete."""
    uri = changes_uri(warehouse, "", run_id).rstrip("/")  # ".../run_id=<n>": this run only
    path = spark.sparkContext._jvm.org.apache.hadoop.fs.Path(uri)
    filesystem = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    return bool(filesystem.exists(path) and filesystem.delete(path, True))
