"""What lake deploy uploads for the Glue jobs: scripts, the job library, arguments."""

import ast
import io
import json
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import dateutil
import holidays
import pytest
import sqlglot
from django.core.exceptions import ImproperlyConfigured

from lake.aws.assets import (
    LIBRARY_KEY,
    ROOT,
    VENDORED_PACKAGES,
    job_arguments,
    job_assets,
    job_script_key,
    spark_sql,
)
from lake.aws.names import GLUE_JOBS, connection_name
from lake.core.marts import SQL_MARTS
from lake.core.transpile import SQL_DIR, render
from lake.glue_jobs.tables import staged_tables
from lake.glue_jobs.workflow import JOB_OPTIONS
from lake.pipeline.schemas import STAGED_MODELS

# What the Glue runtime lacks, or the jobs must not need.
NOT_ON_GLUE = ("django", "rentals", "sakila_site", "sqlglot", "duckdb", "pyiceberg", "pyspark")

# Run in a fresh interpreter (-I: no PYTHONPATH, no current directory) with only
# the zip providing ``lake``: imports what the entry scripts import, loads the
# library's resources, and reports which lake and vendored modules came from where.
IMPORT_CHECK = """
import importlib, json, sys

class Blocked:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"the job library imported {name}")

BLOCKED = set(sys.argv[2].split(","))
REPORTED = {"lake", *sys.argv[4].split(",")}
sys.meta_path.insert(0, Blocked())
sys.path.insert(0, sys.argv[1])
for module, names in json.loads(sys.argv[3]).items():
    loaded = importlib.import_module(module)
    for name in names:
        getattr(loaded, name)
modules = {n: m.__file__ for n, m in sys.modules.items() if n.split(".")[0] in REPORTED}
from lake.glue_jobs.tables import staged_tables
transform = sys.modules.get("lake.glue_jobs.transform")
print(json.dumps({
    "modules": modules,
    "tables": [table.name for table in staged_tables()],
    "sql": sorted(transform.spark_sql_files()) if transform else [],
}))
"""


@pytest.fixture(scope="module")
def assets() -> dict[str, bytes]:
    return job_assets()


@pytest.fixture(scope="module")
def library(assets) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(assets[LIBRARY_KEY]))


def script_imports(script: bytes) -> dict[str, list[str]]:
    """{module: names} of the lake imports in an entry script."""
    imports: dict[str, list[str]] = {}
    for node in ast.walk(ast.parse(script)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lake"):
            imports.setdefault(node.module, []).extend(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("lake"):
                    imports.setdefault(alias.name, [])
    return imports


def test_deploy_uploads_each_job_script_and_one_library(assets):
    assert set(assets) == {job_script_key(job) for job in GLUE_JOBS} | {LIBRARY_KEY}
    for job in GLUE_JOBS:
        script = (ROOT / "lake" / "glue_jobs" / f"{job}_job.py").read_bytes()
        assert assets[job_script_key(job)] == script
        assert script_imports(script), f"{job}_job.py imports the job library"


def run_on_glue(library: bytes, tmp_path, job: str, imports: dict) -> dict:
    """IMPORT_CHECK's report for ``job``'s imports, the library alone providing ``lake``."""
    (tmp_path / "jobs.zip").write_bytes(library)
    result = subprocess.run(
        [sys.executable, "-I", "-c", IMPORT_CHECK, str(tmp_path / "jobs.zip"),
         ",".join(NOT_ON_GLUE), json.dumps(imports), ",".join(VENDORED_PACKAGES)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_library_imports_on_glue_without_django(assets, library, tmp_path):
    """What each entry script imports comes from the zip (the vendored
    packages too), with none of Django, sqlglot, DuckDB, pyiceberg or PySpark
    importable; and the zip holds exactly those lake modules."""
    imported: set[str] = set()
    for job in GLUE_JOBS:
        report = run_on_glue(
            assets[LIBRARY_KEY], tmp_path, job, script_imports(assets[job_script_key(job)])
        )
        assert {path.split(".zip")[0] for path in report["modules"].values()} == {
            str(tmp_path / "jobs")
        }
        assert report["tables"] == [model._meta.db_table for model in STAGED_MODELS]
        assert report["sql"] == (sorted(spark_sql()) if job == "marts" else [])
        imported |= {name for name in report["modules"] if name.split(".")[0] == "lake"}
    assert "holidays" in report["modules"]  # the marts job's dim_date
    zipped = {
        name.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        for name in library.namelist()
        if name.startswith("lake/") and name.endswith(".py")
    }
    assert imported == zipped


def test_the_library_holds_every_mart_sql_rendered_for_spark(library):
    for mart in SQL_MARTS:
        for folder, name in (("keys", f"{mart.name}_keys.sql"), ("marts", f"{mart.name}.sql")):
            source = SQL_DIR / folder / name
            rendered = library.read(f"lake/glue_jobs/spark_sql/{folder}/{name}")
            assert rendered.decode() == render(source.read_text(), "spark") + "\n"
            sqlglot.parse_one(rendered.decode(), read="spark")
    shared = library.read("lake/glue_jobs/spark_sql/keys/address_keys.sql").decode()
    assert "changed_address" in shared


def test_the_library_manifest_describes_the_staged_tables(library):
    manifest = library.read("lake/glue_jobs/staged_tables.json").decode()
    tables = {table.name: table for table in staged_tables(manifest)}
    assert list(tables) == [model._meta.db_table for model in STAGED_MODELS]
    assert tables["rental"].primary_key == ("rental_id",)
    assert tables["rental"].month_partition == "rental_date"
    assert dict(tables["rental"].columns)["rental_date"] == "TIMESTAMP_NTZ"
    assert dict(tables["payment"].columns)["amount"] == "DECIMAL(5,2)"
    assert tables["payment"].last_update_nullable and not tables["rental"].last_update_nullable
    # Link tables are read incrementally too: deletes are found by counting rows.
    assert not any(table.fully_extracted for table in tables.values())
    assert tables["film_actor"].primary_key == ("actor_id", "film_id")
    assert dict(tables["film"].columns)["release_year"] == "INT"
    # Never read from RDS by the extract job: not in raw, staging or Athena.
    assert not {"password", "picture"} & set(tables["staff"].column_names)
    assert "username" in tables["staff"].column_names


def test_the_library_is_the_same_bytes_every_build(assets, library):
    assert job_assets() == assets
    assert {entry.date_time for entry in library.infolist()} == {(1980, 1, 1, 0, 0, 0)}


@pytest.fixture
def on_aws(settings):
    settings.LAKE_WAREHOUSE = "s3://sakila-bucket/lake"
    settings.GLUE_ASSETS_URI = "s3://sakila-bucket/lake/_glue"
    settings.GLUE_DATABASE = "sakila"


def glue_conf(value: str) -> dict[str, str]:
    """The --conf value as Glue splits it: one "key=value" after each --conf."""
    return dict(item.split("=", 1) for item in value.split(" --conf "))


@pytest.mark.parametrize("job", GLUE_JOBS)
def test_job_arguments_run_iceberg_on_the_glue_catalog(on_aws, job):
    arguments = job_arguments(job)

    assert arguments["--datalake-formats"] == "iceberg"
    conf = glue_conf(arguments["--conf"])
    assert conf["spark.sql.extensions"].endswith("IcebergSparkSessionExtensions")
    assert conf["spark.sql.catalog.glue_catalog"] == "org.apache.iceberg.spark.SparkCatalog"
    assert conf["spark.sql.catalog.glue_catalog.catalog-impl"].endswith("GlueCatalog")
    assert conf["spark.sql.catalog.glue_catalog.warehouse"] == "s3://sakila-bucket/lake"
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert arguments["--extra-py-files"] == f"s3://sakila-bucket/lake/_glue/{LIBRARY_KEY}"
    assert arguments["--lake_warehouse"] == "s3://sakila-bucket/lake"
    assert arguments["--catalog_name"] == "glue_catalog"
    assert (arguments["--staging_namespace"], arguments["--marts_namespace"]) == (
        "sakila_staging", "sakila_marts",
    )  # fmt: skip
    # Spark 3.5 pads CHAR(n) columns it reads (language.name: 'English' and 13 spaces).
    assert conf["spark.sql.readSideCharPadding"] == "false"
    # Every argument the job reads is given.
    assert {f"--{option}" for option in JOB_OPTIONS[job]} <= set(arguments)


def test_extract_arguments_name_the_connection_and_the_watermark_rules(on_aws, settings):
    settings.LAKE_EXTRACT_OVERLAP_SECONDS = 120
    settings.TIME_ZONE = "America/Chicago"
    arguments = job_arguments("extract")
    assert arguments["--connection_name"] == connection_name()
    assert arguments["--overlap_seconds"] == "120"
    assert arguments["--time_zone"] == "America/Chicago"
    # Big tables are read in parallel on key ranges.
    assert (arguments["--read_partitions"], arguments["--partition_rows"]) == ("8", "100000")
    assert "--additional-python-modules" not in arguments


def test_the_marts_job_installs_nothing_and_connects_nowhere(on_aws):
    arguments = job_arguments("marts")
    assert "--additional-python-modules" not in arguments  # no pip, so no internet needed
    assert "--connection_name" not in arguments


# Glue's Python with only what Glue 5.0 ships that holidays needs (dateutil and
# six) and the zip: US holidays as dim_date names them, and the version read.
HOLIDAYS_ON_GLUE = """
import json, sys
sys.path[:0] = sys.argv[1:3]
import holidays
from importlib.metadata import version
us = holidays.country_holidays("US", years=range(2005, 2031))
print(json.dumps({
    "file": holidays.__file__,
    "version": version("holidays"),
    "days": {day.isoformat(): name for day, name in sorted(us.items())},
}))
"""


def test_the_library_carries_holidays_for_dim_date(library, assets, tmp_path):
    (tmp_path / "jobs.zip").write_bytes(assets[LIBRARY_KEY])
    glue_packages = tmp_path / "glue-site-packages"
    glue_packages.mkdir()
    for name in ("dateutil", "six.py"):
        (glue_packages / name).symlink_to(Path(dateutil.__file__).parents[1] / name)
    # -S: no site-packages, so an import that is not in the zip or those two fails.
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", HOLIDAYS_ON_GLUE, str(tmp_path / "jobs.zip"),
         str(glue_packages)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    on_glue = json.loads(result.stdout)

    assert on_glue["file"].startswith(str(tmp_path / "jobs.zip"))
    assert on_glue["version"] == version("holidays")
    here = holidays.country_holidays("US", years=range(2005, 2031))
    assert on_glue["days"] == {day.isoformat(): name for day, name in sorted(here.items())}
    assert on_glue["days"]["2026-11-26"] == "Thanksgiving Day"
    assert not any(name.endswith(".mo") for name in library.namelist())


def test_job_arguments_refuse_a_warehouse_glue_cannot_reach(settings):
    settings.LAKE_WAREHOUSE = "/var/lake"
    settings.GLUE_ASSETS_URI = "s3://sakila-bucket/_glue"
    with pytest.raises(ImproperlyConfigured, match="LAKE_WAREHOUSE to be an s3:// URI"):
        job_arguments("extract")
    settings.LAKE_WAREHOUSE = "s3://sakila-bucket/lake"
    settings.GLUE_ASSETS_URI = ""
    with pytest.raises(ImproperlyConfigured, match="GLUE_ASSETS_URI"):
        job_arguments("marts")


def test_an_unknown_job_is_named():
    with pytest.raises(ValueError, match="Unknown Glue job 'load': the jobs are extract, marts"):
        job_arguments("load")
    with pytest.raises(ValueError, match="Unknown Glue job"):
        job_script_key("load")
