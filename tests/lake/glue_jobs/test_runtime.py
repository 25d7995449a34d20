"""Where a job runs (lake/glue_jobs/runtime.py): the same job scripts read their
arguments and run properties on Glue (the workflow run's, through moto) and on
the Spark engine (a JSON file)."""

import json

import boto3
import pytest

from lake.glue_jobs.runtime import GlueRuntime, SparkRuntime, job_runtime
from lake.glue_jobs.workflow import JOB_OPTIONS, counts_json
from tests.lake.glue_jobs.test_workflow import APP_PROPERTIES

MARTS_ARGUMENTS = {
    "lake_warehouse": "file:///srv/lake", "catalog_name": "sakila",
    "staging_namespace": "staging", "marts_namespace": "marts",
    "jdbc_url": "jdbc:sqlite:/srv/sakila.sqlite3", "jdbc_user": "",
    "jdbc_driver": "org.sqlite.JDBC",
}  # fmt: skip


def argv(arguments: dict[str, str]) -> list[str]:
    return [
        "marts_job.py",
        *(part for name, value in arguments.items() for part in (f"--{name}", value)),
    ]


def test_a_job_started_by_hand_stops_with_the_reason():
    with pytest.raises(SystemExit, match="This job runs only as part of a lake run"):
        job_runtime(["extract_job.py", "--JOB_NAME", "sakila-lake-extract"], "extract")


def test_the_spark_engine_gives_the_properties_as_a_file_the_jobs_add_to(tmp_path, monkeypatch):
    file = tmp_path / "properties.json"
    file.write_text(json.dumps(APP_PROPERTIES))
    monkeypatch.setenv("LAKE_JDBC_PASSWORD", "s3cret")
    job = job_runtime(argv({"run_properties": str(file), **MARTS_ARGUMENTS}), "marts")

    assert isinstance(job, SparkRuntime)
    assert job.run_properties().run_id == 12
    job.put_run_properties({"mart_rows": counts_json({"dim_film": 3})})
    assert json.loads(file.read_text()) == {**APP_PROPERTIES, "mart_rows": '{"dim_film": 3}'}
    assert job.table_names().identifier("marts", "dim_film") == "`sakila`.`marts`.`dim_film`"
    assert job.jdbc_login() == {
        "url": "jdbc:sqlite:/srv/sakila.sqlite3", "user": "", "password": "s3cret",
        "driver": "org.sqlite.JDBC",
    }  # fmt: skip
    assert set(JOB_OPTIONS["marts"]) <= set(job.args)


def test_a_missing_argument_is_named(tmp_path):
    arguments = {"run_properties": str(tmp_path / "p.json"), **MARTS_ARGUMENTS}
    del arguments["jdbc_url"]
    with pytest.raises(SystemExit, match="The job's argument --jdbc_url is missing"):
        job_runtime(argv(arguments), "marts")


def test_on_glue_the_jobs_read_and_add_properties_of_their_workflow_run(aws):
    glue = boto3.client("glue")  # as the runtime makes it (endpoint from the environment)
    glue.create_workflow(Name="sakila-lake")
    run_id = glue.start_workflow_run(Name="sakila-lake", RunProperties=APP_PROPERTIES)["RunId"]
    job = GlueRuntime.__new__(GlueRuntime)  # awsglue exists on Glue only: its arguments by hand
    job.job, job.args = "marts", {"WORKFLOW_NAME": "sakila-lake", "WORKFLOW_RUN_ID": run_id}

    run = job.run_properties()
    job.put_run_properties({"changed_rows": counts_json({"rental": 5})})

    assert run.run_id == 12
    properties = glue.get_workflow_run_properties(Name="sakila-lake", RunId=run_id)
    assert properties["RunProperties"] == {**APP_PROPERTIES, "changed_rows": '{"rental": 5}'}
    assert job.run_properties().changed_rows == {"rental": 5}
