"""Names of the AWS resources the lake uses, derived from settings.

``lake deploy`` creates them under these names and the Glue engine finds
them by the same names: one place, so the two cannot disagree.
"""

from django.conf import settings

from lake.catalog import catalog_namespace

GLUE_JOBS = ("extract", "marts")  # in workflow order; the crawler runs after them


def job_name(job: str) -> str:
    return f"{settings.GLUE_NAME_PREFIX}-{job}"


def workflow_name() -> str:
    return settings.GLUE_NAME_PREFIX


def crawler_name() -> str:
    return f"{settings.GLUE_NAME_PREFIX}-raw"


def connection_name() -> str:
    return f"{settings.GLUE_NAME_PREFIX}-rds"


def raw_database() -> str:
    """The Glue database the crawler writes the raw zone's tables into."""
    return catalog_namespace("raw")
