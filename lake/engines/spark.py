"""The Spark engine (``LAKE_ENGINE=spark``): a run is the job scripts Glue runs
(``lake/glue_jobs/``), each started with ``spark-submit`` on ``SPARK_MASTER``,
against the catalog the local engine uses (pyiceberg's SQL catalog, which
Iceberg's JDBC catalog reads and writes), so reports, the SQL console and time
travel read what Spark wrote. See docs/spark.md.

A run, in the worker (or in the foreground with ``lake run``), as the local
runner does it: claim the run; the ``extract`` job, then the ``marts`` job,
each a spark-submit in client mode (the driver here, the executors on the
master's cluster; ``local[n]``: all here); the local crawler over the raw zone;
then (when the marts job's data checks passed: ``check_results``) publish, in
one database transaction. A job that fails fails the run with
its error and the tail of its log; nothing is published, and the next run
catches up, as on every engine.

The run properties the Glue workflow carries are a JSON file per run here
(``<SPARK_RUN_DIR>/run-<id>/properties.json``), given to each job with
``--run_properties`` (``lake.glue_jobs.runtime.SparkRuntime``); each job's
output is ``extract.log`` and ``marts.log`` beside it. While a job runs, the
worker checks every second whether the run was cancelled (then stops the job)
and keeps the run's heartbeat.
"""

import contextlib
import ctypes
import hashlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from datetime import datetime
from functools import cache
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.utils import timezone

from lake.aws.assets import LIBRARY_KEY, job_assets, job_script_key, job_spark_conf
from lake.catalog import catalog_namespace, spark_catalog, warehouse_uri
from lake.core.spark_jars import SparkInstall, SparkNotInstalled, spark_install
from lake.engines.base import EngineUnavailable
from lake.engines.job_runs import (
    ROWS_PROPERTIES,
    check_results,
    extract_breakdown,
    rows_property,
    run_properties,
    watermarks_to,
)
from lake.engines.local import LocalEngine
from lake.models import PipelineRun, PipelineStep
from lake.pipeline.audit import checks_conclude
from lake.pipeline.maintain import maintenance_run_execute
from lake.pipeline.runner import (
    RunCancelled,
    pipeline_run_publish,
    run_claimed_execute,
    run_crawl,
    run_inject_fault,
    run_raise_if_cancelled,
    run_step,
)

DRIVERS = {"sqlite": "org.sqlite.JDBC", "mysql": "org.mariadb.jdbc.Driver"}
LOG_TAIL_LINES = 40  # of a failed job's log, in its step
HEARTBEAT_SECONDS = 15
STOP_GRACE_SECONDS = 20  # after SIGTERM, before SIGKILL
ERROR_JOB = "The Spark job {job} failed (exit status {status}): {error}"
PR_SET_PDEATHSIG = 1


class JobFailed(Exception):
    """A job's spark-submit ended without success (the message says how)."""


class SparkEngine(LocalEngine):
    """Maintenance, raw retention and the crawled tables are the local engine's:
    it is the same lake."""

    name = "spark"
    title = "Spark"
    runs_elsewhere = False

    def check_available(self) -> None:
        try:
            spark_install()
        except SparkNotInstalled as error:
            raise EngineUnavailable(str(error)) from None

    def start(self, run: PipelineRun, *, as_of: datetime | None = None) -> None:
        if run.kind == PipelineRun.Kind.MAINTENANCE:
            maintenance_run_execute(run, self)
        else:
            run_claimed_execute(run, lambda run, inputs: self._execute(run, as_of))

    def cancel(self, run: PipelineRun) -> None:
        # The worker running it checks cancel_requested_at every second and stops the job.
        pass

    # --- A run ------------------------------------------------------------------------------

    def _execute(self, run: PipelineRun, as_of: datetime | None) -> None:
        try:
            install = spark_install()
        except SparkNotInstalled as error:
            raise EngineUnavailable(str(error)) from None
        directory = run_directory(run.pk)
        properties_file = directory / "properties.json"
        properties_file.write_text(json.dumps(run_properties(run, as_of=as_of), indent=1) + "\n")
        for job in ("extract", "marts"):
            with run_step(run, job) as step:
                self._submit(run, step, job, install, properties_file)
                properties = _read(properties_file)
                rows = rows_property(properties, ROWS_PROPERTIES[job], job) or {}
                step.rows = sum(rows.values())
                step.log += "\n" + ", ".join(f"{name}: {n}" for name, n in sorted(rows.items()))
            if job == "extract":
                _record_breakdown(run, step, properties)
        with run_step(run, "checks") as step:
            results = check_results(properties)
            step.rows = sum(result.failing for result in results)
            step.log = checks_conclude(run, results, watermarks_to(properties))
        run_crawl(run)
        run_inject_fault("publish")
        run_raise_if_cancelled(run)
        pipeline_run_publish(run, watermarks_to(_read(properties_file)))

    def _submit(
        self, run: PipelineRun, step: PipelineStep, job: str, install: SparkInstall, file: Path
    ) -> None:
        """Run one job to its end with spark-submit, following it: the run's
        heartbeat kept, a cancel stops it. ``JobFailed`` unless it succeeded."""
        login = rental_database_login()
        command = submit_command(run.pk, job, install, file, login)
        log_path = file.parent / f"{job}.log"
        step.log = f"spark-submit on {settings.SPARK_MASTER}; log: {log_path}"
        step.save(update_fields=["log"])
        env = {**os.environ, "LAKE_JDBC_PASSWORD": login["password"]}
        # The driver runs Python with the worker's interpreter (the same packages).
        env |= {"PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=env, preexec_fn=_own_group
            )
        (file.parent / f"{job}.pid").write_text(f"{process.pid}\n")
        beat = time.monotonic()
        try:
            while process.poll() is None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=1)
                if time.monotonic() - beat > HEARTBEAT_SECONDS:
                    beat = time.monotonic()
                    PipelineRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now())
                run_raise_if_cancelled(run)
        except (RunCancelled, KeyboardInterrupt):
            _stop(process)
            raise
        if process.returncode != 0:
            lines = [line for line in log_path.read_text(errors="replace").splitlines() if line]
            step.log += "\n" + "\n".join(lines[-LOG_TAIL_LINES:])
            raise JobFailed(
                ERROR_JOB.format(job=job, status=process.returncode, error=_error_line(lines))
            )


def run_directory(run_id: int) -> Path:
    directory = Path(settings.SPARK_RUN_DIR) / f"run-{run_id}"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def submit_command(
    run_id: int, job: str, install: SparkInstall, properties: Path, login: dict[str, str]
) -> list[str]:
    """spark-submit, in client mode, with the job library and its arguments."""
    scripts = job_files()
    java_options = f"-Djava.library.path={install.library_path} -Duser.timezone=UTC"
    if local_conf(settings.SPARK_MASTER):
        # A local job is one short JVM: the quick JIT alone halved its CPU time
        # (a run with nothing new on the real data: 116 s, 52 s, 2 cores).
        java_options += " -XX:TieredStopAtLevel=1"
    conf = [*job_spark_conf(), *catalog_conf()]
    conf.append(f"spark.executor.extraJavaOptions={java_options}")
    conf.append("spark.log.level=WARN")  # the job's log: its warnings and errors, not Spark's INFO
    conf += local_conf(settings.SPARK_MASTER)
    arguments = {
        "run_properties": str(properties),
        "lake_warehouse": warehouse_uri(),
        "catalog_name": spark_catalog()[0],
        "staging_namespace": catalog_namespace("staging"),
        "marts_namespace": catalog_namespace("marts"),
        "jdbc_url": login["url"],
        "jdbc_user": login["user"],
        "jdbc_driver": login["driver"],
    }
    if job == "extract":
        arguments |= {
            "time_zone": settings.TIME_ZONE,
            "overlap_seconds": str(settings.LAKE_EXTRACT_OVERLAP_SECONDS),
            "batch_rows": str(settings.LAKE_EXTRACT_BATCH_ROWS),
            "read_partitions": str(settings.GLUE_EXTRACT_PARTITIONS),
            "partition_rows": str(settings.GLUE_EXTRACT_PARTITION_ROWS),
        }
    return [
        str(install.spark_submit),
        *("--master", settings.SPARK_MASTER, "--deploy-mode", "client"),
        *("--name", f"sakila-lake-{job}-run-{run_id}"),
        *("--jars", ",".join(str(jar) for jar in install.jars)),
        *("--py-files", str(scripts[LIBRARY_KEY])),
        *("--driver-java-options", java_options),
        *(part for setting in conf for part in ("--conf", setting)),
        *shlex.split(settings.SPARK_SUBMIT_OPTIONS),
        str(scripts[job_script_key(job)]),
        *(part for name, value in arguments.items() for part in (f"--{name}", value)),
    ]


def local_conf(master: str) -> list[str]:
    """On ``local[n]``, shuffles in 2n partitions rather than Spark's 200, made
    for a cluster: the marts job took 91 s on the real Sakila data, 56 s so
    (2 cores). SPARK_SUBMIT_OPTIONS, given after, can set it otherwise."""
    found = re.fullmatch(r"local\[(\d+|\*)(?:,\d+)?\]|local", master)
    if not found:
        return []
    threads = found.group(1) if found.lastindex else "1"
    cores = (os.cpu_count() or 2) if threads == "*" else int(threads)
    return [f"spark.sql.shuffle.partitions={max(2, 2 * cores)}"]


def catalog_conf() -> list[str]:
    name, properties = spark_catalog()
    prefix = f"spark.sql.catalog.{name}"
    return [f"{prefix}=org.apache.iceberg.spark.SparkCatalog"] + [
        f"{prefix}.{key}={value}" for key, value in properties.items()
    ]


@cache
def job_files() -> dict[str, Path]:
    """The files lake deploy uploads (the job scripts and the job library),
    written once per version of them under SPARK_RUN_DIR/lib/."""
    assets = job_assets()
    digest = hashlib.sha256(b"".join(assets[key] for key in sorted(assets))).hexdigest()[:16]
    root = Path(settings.SPARK_RUN_DIR) / "lib" / digest
    paths = {}
    for key, content in assets.items():
        path = root / key
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".partial")
            partial.write_bytes(content)
            os.replace(partial, path)
        paths[key] = path
    return paths


def rental_database_login() -> dict[str, str]:
    """The rental database as the jobs reach it over JDBC (from Django's settings)."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"jdbc:sqlite:{Path(db['NAME']).resolve()}"
    elif connection.vendor == "mysql":
        url = f"jdbc:mysql://{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 3306}/{db['NAME']}"
    else:
        raise EngineUnavailable(f"The Spark engine reads SQLite or MySQL, not {connection.vendor}")
    return {
        "url": url,
        "user": db.get("USER") or "",
        "password": db.get("PASSWORD") or "",
        "driver": DRIVERS[connection.vendor],
    }


def _record_breakdown(run: PipelineRun, extract: PipelineStep, properties: dict) -> None:
    """The extract job's rows per table, as the local engine's steps name them."""
    for name, rows in extract_breakdown(properties):
        PipelineStep.objects.create(
            run=run, name=name, position=run.steps.count(), status=PipelineStep.Status.SUCCEEDED,
            started_at=extract.started_at, finished_at=extract.finished_at, rows=rows,
        )  # fmt: skip


def _read(file: Path) -> dict:
    return json.loads(file.read_text())


def _own_group() -> None:
    """In the child: a process group of its own (a stop reaches the JVM and its
    Python driver), and a SIGTERM should the worker die (no job outlives its run)."""
    os.setsid()
    # Not on Linux: no prctl, and the reaper fails the run all the same.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def _error_line(lines: list[str]) -> str:
    """The Python error that ended the job, else the last line of its log."""
    for line in reversed(lines):
        head = line.split(":", 1)[0].strip()
        if head and " " not in head and (head.endswith(("Error", "Exception", "Exit"))):
            return line.strip()
    return lines[-1].strip() if lines else "no output"


ENGINE = SparkEngine
