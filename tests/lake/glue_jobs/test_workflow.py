"""The run properties, the jobs' contract with the app, and where a run's files go."""

import json
from datetime import datetime

import pytest

from lake.glue_jobs.workflow import (
    changes_uri,
    deleted_uri,
    parse_run_properties,
    raw_uri,
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
