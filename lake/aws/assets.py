"""What ``lake deploy`` uploads for the Glue jobs, and the jobs' arguments.

Under ``GLUE_ASSETS_URI``: the entry script of each job
(``scripts/<job>_job.py``) and one job library (``lib/sakila_lake_jobs.zip``,
given to both jobs with ``--extra-py-files``). The library holds the modules
the jobs import (none imports Django), the staged tables' manifest built
from the Django models, and the mart SQL rendered for Spark by sqlglot, so
Glue needs neither Django nor sqlglot. The bytes depend only on the code
(fixed zip timestamps and order), so deploying twice uploads the same files.
"""

import io
import zipfile
from importlib.metadata import distribution
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from lake.aws.names import GLUE_JOBS, connection_name
from lake.catalog import glue as glue_catalog
from lake.core.checks import checks_to_json, load_checks
from lake.core.transpile import SQL_DIR, render
from lake.glue_jobs.audit import CHECKS_FILE
from lake.glue_jobs.extract import SPARK_SETTINGS
from lake.glue_jobs.tables import MANIFEST, StagedTable, manifest_json, spark_columns
from lake.glue_jobs.transform import SPARK_SQL_DIR
from lake.pipeline.schemas import (
    FULLY_EXTRACTED,
    STAGED_MODELS,
    STAGING_PARTITIONS,
    primary_key,
    staging_schema,
    table_name,
)

LIBRARY_KEY = "lib/sakila_lake_jobs.zip"
ROOT = Path(__file__).resolve().parents[2]
# The modules the jobs import, as paths from the project root: the Glue side
# of the lake and what it shares with the local engine (mart schemas, dim_date).
LIBRARY_MODULES = (
    "lake/__init__.py",
    "lake/core/__init__.py",
    "lake/core/checks.py",
    "lake/core/dates.py",
    "lake/core/marts.py",
    "lake/glue_jobs/__init__.py",
    "lake/glue_jobs/audit.py",
    "lake/glue_jobs/extract.py",
    "lake/glue_jobs/iceberg.py",
    "lake/glue_jobs/runtime.py",
    "lake/glue_jobs/sql.py",
    "lake/glue_jobs/tables.py",
    "lake/glue_jobs/transform.py",
    "lake/glue_jobs/workflow.py",
)
# Packages the library carries, at the version the app runs and tests: their
# modules and metadata (not their translations). dim_date needs ``holidays``;
# carrying it spares the marts job a pip install, which needs the internet
# that a job in the database's private subnet does not have.
VENDORED_PACKAGES = ("holidays",)
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # the earliest a zip can hold: the same bytes every build
GLUE_SPARK_CATALOG = "glue_catalog"  # the jobs' Iceberg catalog on Glue, as AWS's guide names it


def job_script_key(job: str) -> str:
    _check_job(job)
    return f"scripts/{job}_job.py"


def job_assets() -> dict[str, bytes]:
    """Files to upload, keyed by their path under ``GLUE_ASSETS_URI``."""
    assets = {
        job_script_key(job): (ROOT / "lake" / "glue_jobs" / f"{job}_job.py").read_bytes()
        for job in GLUE_JOBS
    }
    assets[LIBRARY_KEY] = job_library()
    return assets


def job_arguments(job: str) -> dict[str, str]:
    """The job's DefaultArguments (besides what deploy itself sets)."""
    _check_job(job)
    warehouse = settings.LAKE_WAREHOUSE.rstrip("/")
    if not warehouse.startswith("s3://"):
        raise ImproperlyConfigured(
            f"The Glue jobs need LAKE_WAREHOUSE to be an s3:// URI, not {warehouse!r}"
        )
    if not settings.GLUE_ASSETS_URI.startswith("s3://"):
        raise ImproperlyConfigured(
            "The Glue jobs need GLUE_ASSETS_URI (an s3:// URI for their scripts and library), "
            f"not {settings.GLUE_ASSETS_URI!r}"
        )
    arguments = {
        "--datalake-formats": "iceberg",
        # Glue takes one --conf: the others ride in its value.
        "--conf": " --conf ".join(spark_conf(warehouse)),
        "--extra-py-files": f"{settings.GLUE_ASSETS_URI.rstrip('/')}/{LIBRARY_KEY}",
        "--lake_warehouse": warehouse,
        "--catalog_name": GLUE_SPARK_CATALOG,
        "--staging_namespace": glue_catalog.namespace("staging"),
        "--marts_namespace": glue_catalog.namespace("marts"),
    }
    if job == "extract":
        arguments |= {
            "--connection_name": connection_name(),
            "--time_zone": settings.TIME_ZONE,
            "--overlap_seconds": str(settings.LAKE_EXTRACT_OVERLAP_SECONDS),
            "--batch_rows": str(settings.LAKE_EXTRACT_BATCH_ROWS),
            "--read_partitions": str(settings.GLUE_EXTRACT_PARTITIONS),
            "--partition_rows": str(settings.GLUE_EXTRACT_PARTITION_ROWS),
        }
    return arguments


def spark_conf(warehouse: str) -> list[str]:
    """The Spark settings of both jobs on Glue: the Iceberg catalog on the Glue
    Data Catalog, and those of every engine (``job_spark_conf``).
    https://docs.aws.amazon.com/glue/latest/dg/aws-glue-programming-etl-format-iceberg.html
    """
    catalog = f"spark.sql.catalog.{GLUE_SPARK_CATALOG}"
    return [
        *job_spark_conf(),
        f"{catalog}=org.apache.iceberg.spark.SparkCatalog",
        f"{catalog}.catalog-impl=org.apache.iceberg.aws.glue.GlueCatalog",
        f"{catalog}.io-impl=org.apache.iceberg.aws.s3.S3FileIO",
        f"{catalog}.warehouse={warehouse}",
    ]


def job_spark_conf() -> list[str]:
    """The Spark settings the jobs need wherever they run: Iceberg's SQL
    extensions (MERGE), naive times kept as they are, no _SUCCESS files in the
    raw zone, CHAR values unpadded (``SPARK_SETTINGS``)."""
    return [
        "spark.sql.extensions=org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
        "spark.sql.session.timeZone=UTC",
        "spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs=false",
        *(f"{name}={value}" for name, value in SPARK_SETTINGS.items()),
    ]


def staged_tables_from_models() -> list[StagedTable]:
    """The staging tables as lake/pipeline/schemas.py derives them from the models."""
    tables = []
    for model in STAGED_MODELS:
        name = table_name(model)
        tables.append(
            StagedTable(
                name=name,
                columns=spark_columns(staging_schema(model)),
                primary_key=tuple(primary_key(model)),
                fully_extracted=name in FULLY_EXTRACTED,
                last_update_nullable=model._meta.get_field("last_update").null,
                month_partition=STAGING_PARTITIONS.get(name),
            )
        )
    return tables


def spark_sql() -> dict[str, str]:
    """The keys and mart SQL rendered for Spark, keyed "keys/<file>" and "marts/<file>"."""
    return {
        f"{folder}/{path.name}": render(path.read_text(), "spark") + "\n"
        for folder in ("keys", "marts")
        for path in sorted((SQL_DIR / folder).glob("*.sql"))
    }


def job_library() -> bytes:
    """The zip for --extra-py-files."""
    files = {path: (ROOT / path).read_bytes() for path in LIBRARY_MODULES}
    files |= vendored_files()
    files[f"lake/glue_jobs/{MANIFEST}"] = manifest_json(staged_tables_from_models()).encode()
    for name, sql in spark_sql().items():
        files[f"lake/glue_jobs/{SPARK_SQL_DIR}/{name}"] = sql.encode()
    checks = checks_to_json(load_checks(), lambda sql: render(sql, "spark"))
    files[f"lake/glue_jobs/{SPARK_SQL_DIR}/{CHECKS_FILE}"] = checks.encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as library:
        for path in sorted(files):
            entry = zipfile.ZipInfo(path, date_time=ZIP_TIMESTAMP)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            library.writestr(entry, files[path], compresslevel=9)
    return buffer.getvalue()


def vendored_files() -> dict[str, bytes]:
    """VENDORED_PACKAGES' modules and METADATA (which importlib.metadata reads
    from a zip too), by their paths in site-packages."""
    files = {}
    for package in VENDORED_PACKAGES:
        for path in distribution(package).files:
            if path.suffix == ".py" or path.name in ("py.typed", "METADATA"):
                files[path.as_posix()] = path.read_binary()
    return files


def _check_job(job: str) -> None:
    if job not in GLUE_JOBS:
        raise ValueError(f"Unknown Glue job {job!r}: the jobs are {', '.join(GLUE_JOBS)}")
