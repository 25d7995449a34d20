"""Glue job "<GLUE_NAME_PREFIX>-extract": the rental database into the raw
zone and the staging tables (lake/glue_jobs/extract.py does the work).

Reads the workflow run's properties; sets watermarks_to, extract_rows,
changed_rows and deleted_rows. The job library comes with --extra-py-files (lake deploy).
"""

import sys

import boto3
from awsglue.context import GlueContext
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

from lake.glue_jobs.extract import JobSettings, extract_run, jdbc_login
from lake.glue_jobs.tables import staged_tables
from lake.glue_jobs.workflow import (
    JOB_OPTIONS,
    WORKFLOW_OPTIONS,
    counts_json,
    get_run_properties,
    put_run_properties,
    require_workflow,
    timestamps_json,
)


def main() -> None:
    require_workflow(sys.argv)
    args = getResolvedOptions(sys.argv, [*WORKFLOW_OPTIONS, *JOB_OPTIONS["extract"]])
    glue = boto3.client("glue")
    run = get_run_properties(glue, args["WORKFLOW_NAME"], args["WORKFLOW_RUN_ID"])
    context = GlueContext(SparkContext.getOrCreate())
    jdbc = jdbc_login(context.extract_jdbc_conf(args["connection_name"]), args["connection_name"])
    settings = JobSettings(
        warehouse=args["lake_warehouse"],
        database=args["glue_database"],
        time_zone=args["time_zone"],
        overlap_seconds=int(args["overlap_seconds"]),
        batch_rows=int(args["batch_rows"]),
        read_partitions=int(args["read_partitions"]),
        partition_rows=int(args["partition_rows"]),
    )
    result = extract_run(context.spark_session, staged_tables(), run, jdbc, settings)
    put_run_properties(
        glue,
        args["WORKFLOW_NAME"],
        args["WORKFLOW_RUN_ID"],
        {
            "watermarks_to": timestamps_json(result.watermarks),
            "extract_rows": counts_json({t.table: t.rows_read for t in result.tables}),
            "changed_rows": counts_json({t.table: t.rows_changed for t in result.tables}),
            "deleted_rows": counts_json({t.table: t.rows_deleted for t in result.tables}),
        },
    )


if __name__ == "__main__":
    main()
