"""Names of the AWS resources the lake uses, derived from settings.

``lake deploy`` creates them under these names and the Glue engine finds
them by the same names: one place, so the two cannot disagree.
"""

from django.conf import settings

GLUE_JOBS = ("extract", "marts")  # in workflow order; the crawler runs after them


def job_name(job: str) -> str:
    return f"{settings.GLUE_NAME_PREFIX}-{job}"


def workflow_name() -> str:
    return settings.GLUE_NAME_PREFIX


def crawler_name() -> str:
    return f"{settings.GLUE_NAME_PREFIX}-raw"


def connection_name() -> str:
    return f"{settings.GLUE_NAME_PREFIX}-rds"
