"""What deploy and destroy check on AWS before they plan anything.

- Deploy: what step 1 of docs/aws.md prepares and deploy only names must
  exist (the Glue role and the optimizers', the JDBC secret, the subnet and
  the security groups): a made-up name would give a clean plan and jobs that
  fail at their first run. Every missing one is named at once.
- Destroy: the workflow must have no active run. AWS deletes a workflow
  while it runs, and the run then fails (EntityNotFoundException); destroy
  refuses, naming the run, unless told to go on.
"""

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings

from lake.aws import names
from lake.aws.clients import aws_client
from lake.aws.deploy.resource import DeployError, aws_message, is_not_found

ACTIVE_WORKFLOW_RUN = ("RUNNING", "STOPPING")
ERROR_MISSING = (
    "lake deploy needs these to exist first (docs/aws.md, Deploying, step 1):\n{problems}"
)
ERROR_ACTIVE_RUN = (
    "Workflow {workflow} has an active run: {runs}. Deleting the workflow now fails that run "
    "(Glue does not refuse). Let it end or cancel it (Cancel on its page at /lake/), or "
    "pass --ignore-active-run to delete it anyway."
)


def role_name(arn: str) -> str:
    """The role's name in ``arn:aws:iam::<account>:role/<path>/<name>``."""
    return arn.rsplit("/", 1)[-1]


def _missing(what: str, call: Callable[[], Any]) -> str | None:
    """None when the read finds it; else why not (AWS's message)."""
    try:
        call()
    except ClientError as error:
        reason = "does not exist" if is_not_found(error) else "could not be read"
        return f"{what} {reason}: {aws_message(error)}"
    except BotoCoreError as error:
        return f"{what} could not be read: {error}"
    return None


def prerequisite_problems() -> list[str]:
    """Each prerequisite deploy names that AWS does not find."""
    iam, secretsmanager, ec2 = aws_client("iam"), aws_client("secretsmanager"), aws_client("ec2")
    roles = {("GLUE_ROLE_ARN", settings.GLUE_ROLE_ARN)}
    if settings.GLUE_OPTIMIZER_ROLE_ARN:
        roles.add(("GLUE_OPTIMIZER_ROLE_ARN", settings.GLUE_OPTIMIZER_ROLE_ARN))
    checks = [
        (f"{setting} {arn} (IAM role)", lambda arn=arn: iam.get_role(RoleName=role_name(arn)))
        for setting, arn in sorted(roles)
    ]
    secret = settings.GLUE_JDBC_SECRET_ID
    checks.append(
        (
            f"GLUE_JDBC_SECRET_ID {secret} (Secrets Manager secret)",
            lambda: secretsmanager.describe_secret(SecretId=secret),
        )
    )
    subnet = settings.GLUE_SUBNET_ID
    checks.append(
        (f"GLUE_SUBNET_ID {subnet} (subnet)", lambda: ec2.describe_subnets(SubnetIds=[subnet]))
    )
    for group in settings.GLUE_SECURITY_GROUP_IDS:
        checks.append(
            (
                f"GLUE_SECURITY_GROUP_IDS {group} (security group)",
                lambda group=group: ec2.describe_security_groups(GroupIds=[group]),
            )
        )
    return [problem for what, call in checks if (problem := _missing(what, call))]


def check_prerequisites() -> None:
    if problems := prerequisite_problems():
        raise DeployError(ERROR_MISSING.format(problems="\n".join(f"  - {p}" for p in problems)))


def active_workflow_runs() -> list[str]:
    """The workflow's runs still running or stopping: "<id> (RUNNING, started ...)"."""
    glue = aws_client("glue")
    try:
        response = glue.get_workflow_runs(Name=names.workflow_name(), IncludeGraph=False)
    except ClientError as error:
        if is_not_found(error):
            return []  # no workflow: nothing runs
        raise DeployError(f"Could not read the workflow's runs: {aws_message(error)}") from None
    active = []
    for run in response.get("Runs", []):
        if run.get("Status") in ACTIVE_WORKFLOW_RUN:
            started = run.get("StartedOn")
            when = f", started {started:%Y-%m-%d %H:%M:%S %Z}".rstrip() if started else ""
            active.append(f"{run['WorkflowRunId']} ({run['Status']}{when})")
    return active


def check_no_active_run() -> None:
    if runs := active_workflow_runs():
        raise DeployError(
            ERROR_ACTIVE_RUN.format(workflow=names.workflow_name(), runs=", ".join(runs))
        )
