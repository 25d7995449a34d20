"""The Spark engine's own part, without Spark: how it starts a job (the
spark-submit command), follows it (steps, rows, the log), publishes, stops it
on cancel, fails with the job's error, and refuses when Spark is not
installed. A stand-in spark-submit plays the jobs; tests/lake/engines/
test_spark_runs.py runs the real ones (make test-spark)."""

import json
import sys
import threading
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from lake import services
from lake.core.spark_jars import SparkInstall, SparkNotInstalled
from lake.engines import get_engine
from lake.engines import spark as spark_engine
from lake.models import PipelineRun, PipelineStep
from lake.pipeline.runner import pipeline_run_create
from lake.pipeline.schemas import STAGED_MODELS, table_name
from tests.lake.engines.test_glue import check_results_json

TABLES = [table_name(model) for model in STAGED_MODELS]
# Plays spark-submit: reads the job's --run_properties, then, as FAKE_JOB says,
# adds what the real job adds, fails as a Python job does, or runs until stopped.
FAKE_SPARK_SUBMIT = """#!{python}
import json, os, sys, time
argv = sys.argv
script = next(a for a in argv if a.endswith("_job.py"))
path = argv[argv.index("--run_properties") + 1]
properties = json.load(open(path))
mode = os.environ.get("FAKE_JOB", "succeed")
print("spark-submit", " ".join(argv[1:6]))
if mode == "sleep":
    time.sleep(120)
if mode == "fail" and script.endswith("extract_job.py"):
    print("Traceback (most recent call last):", file=sys.stderr)
    print("ValueError: the rental database is gone", file=sys.stderr)
    sys.exit(1)
tables = {tables}
if script.endswith("extract_job.py"):
    properties |= {{
        "watermarks_to": json.dumps({{t: "2006-02-15 05:00:00" for t in tables}}),
        "extract_rows": json.dumps({{t: 2 for t in tables}}),
        "changed_rows": json.dumps({{t: 1 for t in tables}}),
        "deleted_rows": json.dumps({{}}),
    }}
else:
    properties["mart_rows"] = json.dumps({{"dim_film": 3, "fact_sales": 4}})
    properties["check_results"] = (
        {failed!r} if os.environ.get("FAKE_CHECKS") == "failed" else {passed!r}
    )
json.dump(properties, open(path, "w"))
"""


@pytest.fixture
def fake_spark(settings, lake, tmp_path, monkeypatch):
    """LAKE_ENGINE=spark with the stand-in spark-submit."""
    submit = tmp_path / "spark-submit"
    submit.write_text(
        FAKE_SPARK_SUBMIT.format(
            python=sys.executable,
            tables=TABLES,
            passed=check_results_json("passed"),
            failed=check_results_json("failed"),
        )
    )
    submit.chmod(0o755)
    install = SparkInstall(submit, (Path("/jars/iceberg.jar"),), "/usr/lib/jni")
    monkeypatch.setattr(spark_engine, "spark_install", lambda: install)
    settings.LAKE_ENGINE = "spark"
    settings.SPARK_RUN_DIR = tmp_path / "spark"
    settings.SPARK_SUBMIT_OPTIONS = "--conf spark.ui.enabled=false"
    return install


@pytest.mark.django_db
def test_a_run_is_each_job_submitted_followed_and_published(fake_spark, settings):
    out = StringIO()
    call_command("lake", "run", "--full", stdout=out)

    run = PipelineRun.objects.get()
    assert run.status == PipelineRun.Status.SUCCEEDED and run.engine == "spark"
    steps = {step.name: step for step in run.steps.all()}
    assert [name for name in steps if " " not in name] == ["extract", "marts", "checks", "crawl"]
    assert steps["extract"].rows == 2 * len(TABLES) and steps["stage rental"].rows == 1
    assert steps["marts"].rows == 7 and "dim_film: 3, fact_sales: 4" in steps["marts"].log
    assert f"log: {settings.SPARK_RUN_DIR}/run-{run.pk}/extract.log" in steps["extract"].log
    assert run.watermarks_to["rental"] == "2006-02-15 05:00:00"
    properties = json.loads((settings.SPARK_RUN_DIR / f"run-{run.pk}/properties.json").read_text())
    assert properties["run_id"] == str(run.pk) and properties["full"] == "true"
    assert f"Run {run.pk} succeeded" in out.getvalue()


@pytest.mark.django_db
def test_the_jobs_are_the_ones_lake_deploy_uploads_on_the_sql_catalog(fake_spark, settings):
    settings.SPARK_MASTER = "spark://cluster:7077"
    run = pipeline_run_create()
    properties = spark_engine.run_directory(run.pk) / "properties.json"
    login = {"url": "jdbc:sqlite:/srv/s.db", "user": "", "password": "pw", "driver": "d"}

    command = spark_engine.submit_command(run.pk, "extract", fake_spark, properties, login)

    assert command[:5] == [str(fake_spark.spark_submit), "--master", "spark://cluster:7077",
                           "--deploy-mode", "client"]  # fmt: skip
    files = spark_engine.job_files()
    assert command[command.index("--py-files") + 1] == str(files["lib/sakila_lake_jobs.zip"])
    assert str(files["scripts/extract_job.py"]) in command
    conf = dict(command[i + 1].split("=", 1) for i, part in enumerate(command) if part == "--conf")
    assert conf["spark.sql.catalog.sakila.catalog-impl"] == "org.apache.iceberg.jdbc.JdbcCatalog"
    catalog_file = settings.LAKE_CATALOG_URI.removeprefix("sqlite:///")
    assert conf["spark.sql.catalog.sakila.uri"] == f"jdbc:sqlite:{catalog_file}"
    assert conf["spark.sql.catalog.sakila.jdbc.schema-version"] == "V1"
    assert conf["spark.sql.readSideCharPadding"] == "false"
    arguments = command[command.index(str(files["scripts/extract_job.py"])) + 1 :]
    named = dict(zip(arguments[::2], arguments[1::2], strict=True))
    assert named["--run_properties"] == str(properties)
    assert (named["--catalog_name"], named["--staging_namespace"]) == ("sakila", "staging")
    assert named["--jdbc_url"] == "jdbc:sqlite:/srv/s.db"
    assert "pw" not in command  # the password goes in the environment, not on ps's view


@pytest.mark.django_db
def test_checks_that_fail_in_the_marts_job_keep_the_run_from_publishing(fake_spark, monkeypatch):
    monkeypatch.setenv("FAKE_CHECKS", "failed")
    run = pipeline_run_create(full=True)

    get_engine("spark").start(run)

    run.refresh_from_db()
    assert run.status == PipelineRun.Status.CHECKS_FAILED
    assert "fact_sales: one row per rental_id (1 rows)" in run.error
    assert run.steps.get(name="checks").status == PipelineStep.Status.FAILED
    assert run.checks.get().rows == [{"rental_id": 7, "row_count": 2}]
    assert not run.steps.filter(name="crawl").exists()


@pytest.mark.django_db
def test_a_failed_job_fails_the_run_with_its_error_and_log(fake_spark, monkeypatch):
    monkeypatch.setenv("FAKE_JOB", "fail")
    with pytest.raises(CommandError) as failure:
        call_command("lake", "run", stdout=StringIO())

    message = (
        "The Spark job extract failed (exit status 1): ValueError: the rental database is gone"
    )
    assert message in str(failure.value)
    run = PipelineRun.objects.get()
    assert run.status == PipelineRun.Status.FAILED and run.snapshots == {}
    extract = run.steps.get(name="extract")
    assert extract.status == PipelineStep.Status.FAILED
    assert "Traceback (most recent call last):" in extract.log
    assert not run.steps.filter(name="marts").exists()


@pytest.mark.django_db(transaction=True)
def test_cancel_stops_the_running_job(fake_spark, monkeypatch):
    monkeypatch.setenv("FAKE_JOB", "sleep")
    run = pipeline_run_create()
    worker = threading.Thread(target=get_engine("spark").start, args=(run,))
    worker.start()
    pid_file = spark_engine.run_directory(run.pk) / "extract.pid"
    for _ in range(100):
        if pid_file.exists():
            break
        time.sleep(0.1)
    started = time.monotonic()

    services.pipeline_run_cancel(run=run)
    worker.join(timeout=30)

    assert not worker.is_alive() and time.monotonic() - started < 30
    run.refresh_from_db()
    assert run.status == PipelineRun.Status.CANCELLED
    assert run.steps.get(name="extract").status == PipelineStep.Status.SKIPPED
    pid = int(pid_file.read_text())
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()


@pytest.mark.django_db
def test_without_spark_installed_the_engine_refuses_naming_make_install_spark(
    settings, lake, monkeypatch
):
    def missing(**options):
        raise SparkNotInstalled("The Spark engine cannot run: Java (17) is not installed. Run "
                                "`make install-spark` (...)")  # fmt: skip

    monkeypatch.setattr(spark_engine, "spark_install", missing)
    settings.LAKE_ENGINE = "spark"
    with pytest.raises(CommandError, match="Run `make install-spark`"):
        call_command("lake", "run", stdout=StringIO())
    assert not PipelineRun.objects.exists()

    run = pipeline_run_create()  # queued from the panel: the worker fails it with the message
    get_engine("spark").start(run)
    run.refresh_from_db()
    assert run.status == PipelineRun.Status.FAILED and "make install-spark" in run.error


@pytest.mark.parametrize(
    ("master", "conf"),
    [
        ("local[2]", ["spark.sql.shuffle.partitions=4"]),
        ("local", ["spark.sql.shuffle.partitions=2"]),
        ("local[3,2]", ["spark.sql.shuffle.partitions=6"]),
        ("spark://cluster:7077", []),
        ("yarn", []),
        ("k8s://https://api.example:6443", []),
    ],
)
def test_a_local_master_shuffles_in_partitions_for_its_threads(master, conf):
    assert spark_engine.local_conf(master) == conf


@pytest.mark.django_db
def test_the_worker_runs_a_run_the_control_panel_asked_for(fake_spark, manager, client):
    from lake.tasks import pipeline_run_task

    client.force_login(manager)
    client.post("/lake/runs/trigger/", {"mode": "full"})
    run = PipelineRun.objects.get()
    assert run.engine == "spark" and run.status == PipelineRun.Status.QUEUED

    pipeline_run_task(run.pk)  # what the Celery worker does with the queued run

    run.refresh_from_db()
    assert run.status == PipelineRun.Status.SUCCEEDED
    assert run.steps.get(name="marts").rows == 7


@pytest.mark.spark
def test_the_installed_jars_are_the_locked_ones_and_icebergs_has_its_jackson():
    """make install-spark's packages (PyPI's with hashes, Debian's pinned): the
    Debian jars' SHA-256 as locked, and Iceberg's runtime with the Jackson it
    shades (snowpark-connect-deps-iceberg 1.0.3's jar lacks it)."""
    from lake.core.spark_jars import ICEBERG_RUNTIME, has_shaded_jackson, spark_install

    install = spark_install(check_hashes=True)
    runtime = install.jars[0]
    assert runtime.name == ICEBERG_RUNTIME
    assert has_shaded_jackson(runtime)


def test_a_runtime_jar_without_icebergs_jackson_is_told_apart(tmp_path):
    from zipfile import ZipFile

    from lake.core.spark_jars import ICEBERG_SHADED_JACKSON, has_shaded_jackson

    stripped, whole = tmp_path / "stripped.jar", tmp_path / "whole.jar"
    with ZipFile(stripped, "w") as jar:
        jar.writestr("org/apache/iceberg/jdbc/JdbcCatalog.class", b"")
    with ZipFile(whole, "w") as jar:
        jar.writestr(ICEBERG_SHADED_JACKSON, b"")
    assert not has_shaded_jackson(stripped) and has_shaded_jackson(whole)
