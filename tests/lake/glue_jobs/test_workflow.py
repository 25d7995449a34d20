"""The workflow run properties, the jobs' contract with the app, through moto's Glue."""

import json
from datetime import datetime

import boto3
import pytest

from lake.glue_jobs.workflow import (
    changes_uri,
    counts_json,
    delete_changes,
    deleted_uri,
    get_run_properties,
    parse_run_properties,
    put_run_properties,
    raw_uri,
    require_workflow,
    timestamps_json,
)

APP_PROPERTIES = {  # what the app sets when it starts a run
    "run_id": "12",
    "full": "false",
    "watermarks_from": json.dumps({"rental": "2005-08-01 12:00:00.250000"}),
    "published_snapshots": json.dumps({"staging.rental": 4455667788}),
}


def test_the_app_properties_are_read():
    run = parse_run_properties(APP_PROPERTIES)
    assert run.run_id == 12 and run.full is False
    assert run.watermarks_from == {"rental": datetime(2005, 8, 1, 12, 0, 0, 250000)}
    assert run.published_snapshots == {"staging.rental": 4455667788}
    assert run.changed_rows == {}  # the extract job has not run yet
    assert run.deleted_rows == {}


def test_the_extract_jobs_counts_are_read():
    counts = {"changed_rows": '{"rental": 5, "payment": 2}', "deleted_rows": '{"rental": 1}'}
    run = parse_run_properties({**APP_PROPERTIES, **counts})
    assert (run.changed_rows, run.deleted_rows) == ({"rental": 5, "payment": 2}, {"rental": 1})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"run_id": None}, "Workflow run property 'run_id' is missing"),
        ({"full": "yes"}, "Workflow run property 'full' is not valid: not true/false"),
        ({"watermarks_from": "[1]"}, "'watermarks_from' is not valid: not a JSON object"),
        ({"watermarks_from": '{"rental": "soon"}'}, "'watermarks_from' is not valid"),
        ({"published_snapshots": None}, "'published_snapshots' is missing"),
    ],
)
def test_a_bad_property_is_named(change, message):
    properties = {**APP_PROPERTIES, **change}
    properties = {name: value for name, value in properties.items() if value is not None}
    with pytest.raises(ValueError, match=message):
        parse_run_properties(properties)


def test_the_watermarks_written_read_back_as_the_app_reads_them():
    values = {"rental": datetime(2006, 2, 14, 15, 16, 3, 5), "actor": datetime(2006, 2, 15)}
    written = json.loads(timestamps_json(values))
    assert written == {"actor": "2006-02-15 00:00:00", "rental": "2006-02-14 15:16:03.000005"}
    assert {name: datetime.fromisoformat(value) for name, value in written.items()} == values


def test_a_run_writes_where_the_local_engine_does():
    assert raw_uri("s3://b/lake/", "rental", 12) == "s3://b/lake/raw/rental/run_id=12"
    changes = changes_uri("s3://b/lake", "rental", 12)
    assert changes == "s3://b/lake/staging/_changes/run_id=12/rental"
    # Under the run's changes: the marts job's clean-up takes them too.
    deleted = deleted_uri("s3://b/lake", "rental", 12)
    assert deleted == "s3://b/lake/staging/_changes/run_id=12/deleted/rental"


def test_a_job_started_outside_its_workflow_stops_with_the_reason():
    with pytest.raises(SystemExit, match="runs only inside the lake's Glue workflow"):
        require_workflow(["extract_job.py", "--JOB_NAME", "sakila-lake-extract"])
    require_workflow(["x", "--WORKFLOW_NAME", "w", "--WORKFLOW_RUN_ID", "wr_1"])


def test_the_jobs_read_and_add_properties_of_their_workflow_run(aws):
    glue = boto3.client("glue")  # as the job scripts make it (endpoint from the environment)
    glue.create_workflow(Name="sakila-lake")
    run_id = glue.start_workflow_run(Name="sakila-lake", RunProperties=APP_PROPERTIES)["RunId"]

    run = get_run_properties(glue, "sakila-lake", run_id)
    put_run_properties(glue, "sakila-lake", run_id, {"changed_rows": counts_json({"rental": 5})})

    assert run.run_id == 12
    properties = glue.get_workflow_run_properties(Name="sakila-lake", RunId=run_id)
    assert properties["RunProperties"] == {**APP_PROPERTIES, "changed_rows": '{"rental": 5}'}
    assert get_run_properties(glue, "sakila-lake", run_id).changed_rows == {"rental": 5}


@pytest.mark.slow
def test_the_marts_job_deletes_its_runs_changed_rows_only(aws):
    s3 = boto3.client("s3")  # as the marts job makes it
    s3.create_bucket(Bucket="sakila-lake")
    warehouse = "s3://sakila-lake/lake"
    ours = [f"lake/staging/_changes/run_id=7/rental/part-{n:05}.parquet" for n in range(1001)]
    kept = [
        "lake/staging/_changes/run_id=70/rental/part-00000.parquet",  # another run's
        "lake/staging/rental/data/part-00000.parquet",  # the staging table's
    ]
    for key in [*ours, *kept]:
        s3.put_object(Bucket="sakila-lake", Key=key, Body=b"x")

    assert delete_changes(s3, warehouse, 7) == 1001  # more than one page of keys
    left = s3.list_objects_v2(Bucket="sakila-lake")["Contents"]
    assert sorted(item["Key"] for item in left) == sorted(kept)
    assert delete_changes(s3, warehouse, 7) == 0
