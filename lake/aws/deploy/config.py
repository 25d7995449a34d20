"""What deploy reads from the settings: the check that they are all there
(``lake deploy`` and ``lake destroy`` refuse to start without them), and the
places they name (the warehouse, the job assets, a zone's Glue database)."""

from django.conf import settings

from lake.aws.deploy.resource import DeployError

ZONES = ("raw", "staging", "marts")
GLUE_TEMP_FOLDER = "tmp"  # under GLUE_ASSETS_URI: Glue's --TempDir


def _not_set(value: object) -> str | None:
    return None if value else "not set"


def _prefix_problem(value: str, prefix: str) -> str | None:
    if not value:
        return "not set"
    if not value.startswith(prefix) or value == prefix:
        return f"must start with {prefix} (it is {value!r})"
    return None


def settings_problems(*, for_destroy: bool = False) -> list[str]:
    """What is missing or wrong in the settings deploy (or destroy) needs."""
    checks = [
        ("AWS_REGION", _not_set(settings.AWS_REGION), "the region to deploy to"),
        ("LAKE_WAREHOUSE", _prefix_problem(settings.LAKE_WAREHOUSE, "s3://"), "s3://bucket/lake"),
        ("GLUE_ASSETS_URI", _prefix_problem(settings.GLUE_ASSETS_URI, "s3://"), "job scripts"),
        (
            "ATHENA_S3_STAGING_DIR",
            _prefix_problem(settings.ATHENA_S3_STAGING_DIR, "s3://"),
            "Athena's query results",
        ),
        ("ATHENA_WORKGROUP", _not_set(settings.ATHENA_WORKGROUP), "the reports' workgroup"),
    ]
    if not for_destroy:  # destroy needs only the names
        checks += [
            (
                "GLUE_ROLE_ARN",
                _prefix_problem(settings.GLUE_ROLE_ARN, "arn:"),
                "the role the jobs and the crawler run as, see docs/aws-iam-glue-jobs.json",
            ),
            (
                "GLUE_JDBC_URL",
                _prefix_problem(settings.GLUE_JDBC_URL, "jdbc:"),
                "jdbc:mysql://<rds-endpoint>:3306/sakila",
            ),
            (
                "GLUE_JDBC_SECRET_ID",
                _not_set(settings.GLUE_JDBC_SECRET_ID),
                "the Secrets Manager secret with the database's username and password",
            ),
            (
                "GLUE_SUBNET_ID",
                _not_set(settings.GLUE_SUBNET_ID),
                "a subnet from which the jobs reach the database",
            ),
            (
                "GLUE_SECURITY_GROUP_IDS",
                _not_set(settings.GLUE_SECURITY_GROUP_IDS),
                "comma-separated security groups the database admits",
            ),
            (
                "GLUE_WORKERS",
                None if settings.GLUE_WORKERS >= 2 else f"is {settings.GLUE_WORKERS}",
                "at least 2",
            ),
        ]
    return [f"{name} {problem} ({hint})" for name, problem, hint in checks if problem]


def check_settings(command: str, *, for_destroy: bool = False) -> None:
    if problems := settings_problems(for_destroy=for_destroy):
        lines = "\n".join(f"  - {problem}" for problem in problems)
        raise DeployError(
            f"lake {command} needs these settings (environment variables, see docs/aws.md):"
            f"\n{lines}"
        )


def warehouse() -> str:
    return settings.LAKE_WAREHOUSE.rstrip("/")


def assets_uri() -> str:
    return settings.GLUE_ASSETS_URI.rstrip("/")


def glue_database(zone: str) -> str:
    """The Glue database of a lake zone: what ``catalog_namespace`` answers
    with LAKE_CATALOG=glue, whatever the catalog of the deploying process."""
    return f"{settings.GLUE_DATABASE}_{zone}"
