"""Job "marts": dim_date and the marts from staging (lake/glue_jobs/transform.py
does the work), after the extract job. Glue runs it as "<GLUE_NAME_PREFIX>-marts";
the Spark engine with spark-submit.

Reads the run's properties (changed_rows from the extract job); sets mart_rows
and check_results (the data checks of the marts it wrote: lake/glue_jobs/audit.py).
The job library comes with --extra-py-files (lake deploy) or --py-files (the
Spark engine); lake/glue_jobs/runtime.py is where it runs.
"""

import sys

from lake.core.checks import results_to_json
from lake.glue_jobs.audit import marts_audit
from lake.glue_jobs.runtime import job_runtime, log
from lake.glue_jobs.tables import staged_tables
from lake.glue_jobs.transform import marts_run, spark_sql_files
from lake.glue_jobs.workflow import counts_json, delete_changes


def main() -> None:
    job = job_runtime(sys.argv, "marts")
    run = job.run_properties()
    written = marts_run(
        job.spark,
        staged_tables(),
        spark_sql_files(),
        run,
        warehouse=job.args["lake_warehouse"],
        names=job.table_names(),
    )
    # Audit before publish: the app publishes only if no check of error severity failed.
    results = marts_audit(job.spark, job.table_names(), run, run.fault)
    job.put_run_properties(
        {"mart_rows": counts_json(written), "check_results": results_to_json(results)}
    )
    try:  # the marts are committed: a failed clean-up must not fail the run
        delete_changes(job.spark, job.args["lake_warehouse"], run.run_id)
    except Exception as error:
        log(f"Could not delete run {run.run_id}'s changed rows: {error}")


if __name__ == "__main__":
    main()
