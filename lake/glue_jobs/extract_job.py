"""Job "extract": the rental database into the raw zone and the staging tables
(lake/glue_jobs/extract.py does the work). Glue runs it as
"<GLUE_NAME_PREFIX>-extract"; the Spark engine with spark-submit.

Reads the run's properties; sets watermarks_to, extract_rows, changed_rows and
deleted_rows. The job library comes with --extra-py-files (lake deploy) or
--py-files (the Spark engine); lake/glue_jobs/runtime.py is where it runs.
"""

import sys

from lake.glue_jobs.extract import JobSettings, extract_run
from lake.glue_jobs.runtime import job_runtime
from lake.glue_jobs.tables import staged_tables
from lake.glue_jobs.workflow import counts_json, timestamps_json


def main() -> None:
    job = job_runtime(sys.argv, "extract")
    run = job.run_properties()
    settings = JobSettings(
        warehouse=job.args["lake_warehouse"],
        names=job.table_names(),
        time_zone=job.args["time_zone"],
        overlap_seconds=int(job.args["overlap_seconds"]),
        batch_rows=int(job.args["batch_rows"]),
        read_partitions=int(job.args["read_partitions"]),
        partition_rows=int(job.args["partition_rows"]),
    )
    result = extract_run(job.spark, staged_tables(), run, job.jdbc_login(), settings)
    job.put_run_properties(
        {
            "watermarks_to": timestamps_json(result.watermarks),
            "extract_rows": counts_json({t.table: t.rows_read for t in result.tables}),
            "changed_rows": counts_json({t.table: t.rows_changed for t in result.tables}),
            "deleted_rows": counts_json({t.table: t.rows_deleted for t in result.tables}),
        }
    )


if __name__ == "__main__":
    main()
