"""Where a job runs: the one small interface the job scripts use, so that the
same files run on Glue and on a Spark master of one's own.

- ``GlueRuntime``, when the lake's Glue workflow started the job (Glue passes
  ``--WORKFLOW_NAME`` and ``--WORKFLOW_RUN_ID``): the arguments from awsglue's
  ``getResolvedOptions``, the Spark session of a ``GlueContext``, the run
  properties of the workflow run (boto3), the login of the Glue connection.
- ``SparkRuntime``, when the Spark engine started it with spark-submit
  (lake/engines/spark.py passes ``--run_properties``): the run properties are
  a JSON file (``{name: text}``, the same names and values as on Glue) that the
  job reads and adds to, the login is ``--jdbc_url``, ``--jdbc_user``,
  ``--jdbc_driver`` and the environment's ``LAKE_JDBC_PASSWORD`` (never a
  command-line argument, which ``ps`` shows).

The engines differ in how a job is started and followed, never in the jobs.
"""

import json
import os
import sys
from abc import ABC, abstractmethod
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from lake.glue_jobs.extract import jdbc_login
from lake.glue_jobs.sql import TableNames
from lake.glue_jobs.workflow import JOB_OPTIONS, RunProperties, parse_run_properties

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

WORKFLOW_OPTIONS = ("WORKFLOW_NAME", "WORKFLOW_RUN_ID")  # Glue passes them to a workflow's jobs
PROPERTIES_OPTION = "run_properties"  # the Spark engine's file of run properties
PASSWORD_VARIABLE = "LAKE_JDBC_PASSWORD"
ERROR_NOT_STARTED_BY_THE_APP = (
    "This job runs only as part of a lake run: inside the lake's Glue workflow, which gives "
    "it --WORKFLOW_NAME and --WORKFLOW_RUN_ID (LAKE_ENGINE=glue), or started by the Spark "
    "engine, which gives it --run_properties (LAKE_ENGINE=spark). Start a run from the app."
)
ERROR_MISSING_ARGUMENT = "The job's argument --{name} is missing ({runtime} runtime)."


class JobRuntime(ABC):
    """What a job needs of the place it runs in."""

    name: str
    login_options: tuple[str, ...]  # the arguments the rental database's login comes from

    def __init__(self, argv: list[str], job: str) -> None:
        self.job = job
        self.args = self.resolve(argv, [*JOB_OPTIONS[job], *self.login_options])

    @abstractmethod
    def resolve(self, argv: list[str], options: list[str]) -> dict[str, str]:
        """The values of ``options`` (``--name value``) in ``argv``."""

    @property
    @abstractmethod
    def spark(self) -> "SparkSession": ...

    @abstractmethod
    def run_properties(self) -> RunProperties:
        """The run's properties, checked (``parse_run_properties``)."""

    @abstractmethod
    def put_run_properties(self, values: dict[str, str]) -> None:
        """Add to the run's properties (the next job and the app read them)."""

    @abstractmethod
    def jdbc_login(self) -> dict[str, str]:
        """The rental database's JDBC url, user, password and driver class."""

    def table_names(self) -> TableNames:
        return TableNames(
            catalog=self.args["catalog_name"],
            staging=self.args["staging_namespace"],
            marts=self.args["marts_namespace"],
        )


class GlueRuntime(JobRuntime):
    name = "Glue"
    login_options = ("connection_name",)

    def resolve(self, argv: list[str], options: list[str]) -> dict[str, str]:
        from awsglue.utils import getResolvedOptions

        return getResolvedOptions(argv, [*WORKFLOW_OPTIONS, *options])

    @cached_property
    def _context(self):
        from awsglue.context import GlueContext
        from pyspark.context import SparkContext

        return GlueContext(SparkContext.getOrCreate())

    @cached_property
    def glue(self):
        import boto3

        return boto3.client("glue")

    @property
    def spark(self) -> "SparkSession":
        return self._context.spark_session

    def run_properties(self) -> RunProperties:
        response = self.glue.get_workflow_run_properties(
            Name=self.args["WORKFLOW_NAME"], RunId=self.args["WORKFLOW_RUN_ID"]
        )
        return parse_run_properties(response["RunProperties"])

    def put_run_properties(self, values: dict[str, str]) -> None:
        self.glue.put_workflow_run_properties(
            Name=self.args["WORKFLOW_NAME"],
            RunId=self.args["WORKFLOW_RUN_ID"],
            RunProperties=values,
        )

    def jdbc_login(self) -> dict[str, str]:
        name = self.args["connection_name"]
        return jdbc_login(self._context.extract_jdbc_conf(name), name)


class SparkRuntime(JobRuntime):
    name = "Spark"
    login_options = ("jdbc_url", "jdbc_user", "jdbc_driver")

    def resolve(self, argv: list[str], options: list[str]) -> dict[str, str]:
        values = {}
        for name in [PROPERTIES_OPTION, *options]:
            flag = f"--{name}"
            if flag not in argv or argv.index(flag) + 1 >= len(argv):
                raise SystemExit(ERROR_MISSING_ARGUMENT.format(name=name, runtime=self.name))
            values[name] = argv[argv.index(flag) + 1]
        return values

    @cached_property
    def spark(self) -> "SparkSession":
        from pyspark.sql import SparkSession

        return SparkSession.builder.getOrCreate()  # as spark-submit configured it

    @property
    def _file(self) -> Path:
        return Path(self.args[PROPERTIES_OPTION])

    def _read(self) -> dict[str, str]:
        return json.loads(self._file.read_text())

    def run_properties(self) -> RunProperties:
        return parse_run_properties(self._read())

    def put_run_properties(self, values: dict[str, str]) -> None:
        """Written whole and renamed into place: a reader never sees half a file."""
        properties = {**self._read(), **values}
        partial = self._file.with_suffix(".partial")
        partial.write_text(json.dumps(properties, indent=1, sort_keys=True) + "\n")
        os.replace(partial, self._file)

    def jdbc_login(self) -> dict[str, str]:
        return {
            "url": self.args["jdbc_url"],
            "user": self.args["jdbc_user"],
            "password": os.environ.get(PASSWORD_VARIABLE, ""),
            "driver": self.args["jdbc_driver"],
        }


def job_runtime(argv: list[str], job: str) -> JobRuntime:
    """The runtime that started the job, from its arguments; a clear stop when
    neither did (the job started by hand)."""
    if f"--{PROPERTIES_OPTION}" in argv:
        return SparkRuntime(argv, job)
    if all(f"--{option}" in argv for option in WORKFLOW_OPTIONS):
        return GlueRuntime(argv, job)
    raise SystemExit(ERROR_NOT_STARTED_BY_THE_APP)


def log(message: str) -> None:
    """A line in the job's log (Glue's CloudWatch stream, the Spark engine's log file)."""
    print(message, file=sys.stderr, flush=True)
