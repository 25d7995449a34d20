"""What ``lake deploy`` uploads for the Glue jobs, and the jobs' arguments.

(First cut: the glue_jobs work fills this in; the signatures are the
contract with ``lake/aws/deploy.py``.)
"""

from django.conf import settings

from lake.aws.names import GLUE_JOBS, connection_name


def job_assets() -> dict[str, bytes]:
    """Files to upload, keyed by their path under ``GLUE_ASSETS_URI``:
    ``scripts/<job>_job.py`` per job, the job library, the SQL."""
    from pathlib import Path

    here = Path(__file__).resolve().parents[1] / "glue_jobs"
    return {f"scripts/{job}_job.py": (here / f"{job}_job.py").read_bytes() for job in GLUE_JOBS}


def job_script_key(job: str) -> str:
    return f"scripts/{job}_job.py"


def job_arguments(job: str) -> dict[str, str]:
    """The job's DefaultArguments (besides what deploy itself sets)."""
    arguments = {
        "--datalake-formats": "iceberg",
        "--lake_warehouse": settings.LAKE_WAREHOUSE,
        "--glue_database": settings.GLUE_DATABASE,
    }
    if job == "extract":
        arguments["--connection_name"] = connection_name()
    return arguments
