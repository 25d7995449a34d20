"""Glue job "<GLUE_NAME_PREFIX>-marts": dim_date and the marts from staging
(lake/glue_jobs/transform.py does the work), after the extract job.

Reads the workflow run's properties (changed_rows from the extract job);
sets mart_rows. The job library comes with --extra-py-files (lake deploy).
"""

import sys

import boto3
from awsglue.context import GlueContext
from awsglue.utils import getResolvedOptions
from pyspark.context import SparkContext

from lake.glue_jobs.tables import staged_tables
from lake.glue_jobs.transform import marts_run, spark_sql_files
from lake.glue_jobs.workflow import (
    JOB_OPTIONS,
    WORKFLOW_OPTIONS,
    counts_json,
    delete_changes,
    get_run_properties,
    put_run_properties,
    require_workflow,
)


def main() -> None:
    require_workflow(sys.argv)
    args = getResolvedOptions(sys.argv, [*WORKFLOW_OPTIONS, *JOB_OPTIONS["marts"]])
    glue = boto3.client("glue")
    run = get_run_properties(glue, args["WORKFLOW_NAME"], args["WORKFLOW_RUN_ID"])
    context = GlueContext(SparkContext.getOrCreate())
    written = marts_run(
        context.spark_session,
        staged_tables(),
        spark_sql_files(),
        run,
        warehouse=args["lake_warehouse"],
        database=args["glue_database"],
    )
    put_run_properties(
        glue, args["WORKFLOW_NAME"], args["WORKFLOW_RUN_ID"], {"mart_rows": counts_json(written)}
    )
    try:  # the marts are committed: a failed clean-up must not fail the run
        delete_changes(boto3.client("s3"), args["lake_warehouse"], run.run_id)
    except Exception as error:
        print(f"Could not delete run {run.run_id}'s changed rows: {error}", file=sys.stderr)


if __name__ == "__main__":
    main()
