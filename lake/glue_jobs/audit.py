"""The checks of a run's data in the marts job, before the app publishes it:
the same checks as the local engine's (``lake.core.checks``), given to the
job compiled and rendered for Spark by ``lake deploy`` (``spark_sql/checks.json``),
run on the marts as the job wrote them, staging as the run read it and the
run's clock (the views ``marts_run`` registered). The results go back to the
app in the run property ``check_results``; the app records them and publishes
only if no check of error severity failed.
"""

from importlib.resources import files
from typing import TYPE_CHECKING

from lake.core.checks import DUPLICATE_FAULT, CheckResult, Volume, checks_from_json, run_checks
from lake.core.marts import MARTS
from lake.glue_jobs import iceberg
from lake.glue_jobs.sql import TableNames, snapshot_rows_sql
from lake.glue_jobs.tables import ddl_schema, spark_columns
from lake.glue_jobs.transform import SPARK_SQL_DIR
from lake.glue_jobs.workflow import RunProperties

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

CHECKS_FILE = "checks.json"  # in the job library's spark_sql/


def spark_checks() -> list:
    """The checks as ``lake deploy`` (or the Spark engine) packed them."""
    return checks_from_json(files(__package__).joinpath(SPARK_SQL_DIR, CHECKS_FILE).read_text())


def marts_audit(
    spark: "SparkSession", names: TableNames, run: RunProperties, fault: str = ""
) -> list[CheckResult]:
    """Every check on the marts as written (views by their plain names)."""
    if fault == DUPLICATE_FAULT:
        identifier = names.identifier("marts", "fact_sales")
        iceberg.append(spark.table(identifier).limit(1), identifier)
    rows, published_rows = {}, {}
    for mart in MARTS:
        identifier = names.identifier("marts", mart.name)
        frame = iceberg.table_or_none(spark, identifier)
        if frame is None:
            frame = spark.createDataFrame([], ddl_schema(spark_columns(mart.schema)))
            rows[mart.name] = 0
        else:
            rows[mart.name] = iceberg.row_count(spark, identifier)
        frame.createOrReplaceTempView(mart.name)
        if (snapshot := run.published_snapshots.get(mart.identifier)) is not None:
            found = spark.sql(snapshot_rows_sql(identifier, snapshot)).first()
            published_rows[mart.name] = int(found[0]) if found and found[0] is not None else None
    volume = Volume(rows=rows, published_rows=published_rows, deleted=run.deleted_rows)
    return run_checks(
        spark_checks(),
        lambda sql: [row.asDict(recursive=True) for row in spark.sql(sql).collect()],
        volume,
    )
