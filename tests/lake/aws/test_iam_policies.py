"""The IAM documents in docs/ allow every AWS call the code makes.

The calls are found in the source: every call of a boto3 operation on a
client the code names after its service (``aws_client("glue").get_job``,
``glue.get_job``, ``self.glue.get_job``, ``s3 = aws_client("s3")``...).
Calls made inside libraries (pyiceberg, pyathena, Spark, Glue itself) are
listed below by hand. lake/aws/deploy/ is checked against the deploy
policy, lake/glue_jobs/ against the jobs' role, the rest against the app's.
"""

import ast
import json
import re
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path

import botocore.session
import pytest
from botocore import xform_name

ROOT = Path(__file__).resolve().parents[3]
DOCS = ROOT / "docs"
SERVICES = (
    "s3",
    "glue",
    "athena",
    "ec2",
    "secretsmanager",
    "iam",
    "logs",
    "cloudwatch",
    "sns",
    "events",
)
CLIENT_FACTORIES = {"aws_client", "client"}  # aws_client("glue"), boto3.client("glue")

# Operations whose IAM action has another name.
IAM_ACTIONS = {
    "s3:HeadBucket": "s3:ListBucket",
    "s3:HeadObject": "s3:GetObject",
    "s3:ListObjectsV2": "s3:ListBucket",
    "s3:DeleteObjects": "s3:DeleteObject",
    "s3:PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
}
# Calls the code makes through libraries, and those AWS makes as the caller.
LIBRARY_CALLS = {
    "app": {
        # pyiceberg's GlueCatalog (lake/catalog/) reading tables; pyarrow reading files.
        "glue:GetDatabase",
        "glue:GetDatabases",
        "glue:GetTable",
        "glue:GetTables",
        "s3:GetObject",
        "s3:ListBucket",
        # pyathena (lake/query/athena.py): run, poll, page through results, cancel.
        "athena:StartQueryExecution",
        "athena:GetQueryExecution",
        "athena:GetQueryResults",
        "athena:StopQueryExecution",
        # Athena reads the catalog and the files, and writes results, as the caller.
        "glue:GetPartitions",
        "s3:GetBucketLocation",
        "s3:PutObject",
    },
    "glue-jobs": {
        # Spark's Iceberg GlueCatalog and S3FileIO.
        "glue:GetDatabase",
        "glue:GetTable",
        "glue:CreateTable",
        "glue:UpdateTable",
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:ListBucket",
        # glueContext.extract_jdbc_conf(connection): the connection and its secret.
        "glue:GetConnection",
        "secretsmanager:GetSecretValue",
        # The crawler over the raw zone.
        "glue:BatchCreatePartition",
        "glue:BatchGetPartition",
        "glue:GetPartitions",
        "glue:UpdatePartition",
        # Glue's runtime: logs, metrics, the VPC connection's network interfaces.
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "cloudwatch:PutMetricData",
        "ec2:CreateNetworkInterface",
        "ec2:DeleteNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ec2:DescribeSecurityGroups",
    },
    # Deploy tags what it creates: AWS checks TagResource for tags on create.
    "deploy": {"glue:TagResource", "athena:TagResource", "iam:PassRole"},
    # The Glue Data Catalog's table optimizers that deploy turns on, as their role
    # (Glue developer guide, "Table optimization prerequisites"): they rewrite and
    # delete the tables' files and commit new metadata.
    "table-optimizer": {
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:ListBucket",
        "glue:GetTable",
        "glue:UpdateTable",
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    },
}
# Actions that take no resource ARN (or Glue's own ENI handling): "*" is the only choice.
RESOURCE_STAR_ACTIONS = {
    "cloudwatch:PutMetricData",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeVpcs",
    "ec2:DescribeVpcAttribute",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeRouteTables",
}
# Calls whose resources the code does not show: the ARNs AWS checks, as AWS's
# documentation lists them (placeholders as in docs/).
GLUE_ARN = "arn:aws:glue:REGION:ACCOUNT_ID"
REQUIRED_GRANTS = {
    "app": [
        # Athena's user guide, "Access policy to the default database and catalog
        # per Region": every query looks up the default database first.
        ("glue:GetDatabase", f"{GLUE_ARN}:catalog"),
        ("glue:GetDatabase", f"{GLUE_ARN}:database/default"),
        # A resumed run's properties, put back when Glue left some out.
        ("glue:PutWorkflowRunProperties", f"{GLUE_ARN}:workflow/sakila-lake"),
        # Raw retention (lake/aws/raw_retention.py): old increments and their partitions.
        ("s3:DeleteObject", "arn:aws:s3:::LAKE_BUCKET/lake/raw/rental/run_id=1/part-0.parquet"),
        *(
            ("glue:BatchDeletePartition", f"{GLUE_ARN}:{resource}")
            for resource in ("catalog", "database/sakila_raw", "table/sakila_raw/rental")
        ),
    ],
    "deploy": [
        # Turning the table optimizers on passes their role to Glue.
        ("iam:PassRole", "arn:aws:iam::ACCOUNT_ID:role/OPTIMIZER_ROLE_NAME"),
        ("glue:CreateTableOptimizer", f"{GLUE_ARN}:table/sakila_marts/fact_sales"),
        # DeleteDatabase drops the database's tables and functions with it
        # (Glue's "Specifying AWS Glue resource ARNs": DeleteDatabase).
        *(
            ("glue:DeleteDatabase", f"{GLUE_ARN}:{resource}")
            for resource in (
                "catalog",
                "database/sakila_raw",
                "table/sakila_raw/rental",
                "userDefinedFunction/sakila_raw/any_function",
            )
        ),
    ],
}


def policy(name: str) -> dict:
    return json.loads((DOCS / f"aws-iam-{name}.json").read_text())


def allowed_actions(name: str) -> list[str]:
    actions = []
    for statement in policy(name)["Statement"]:
        assert statement["Effect"] == "Allow"
        value = statement["Action"]
        actions += [value] if isinstance(value, str) else value
    return actions


def allows(name: str, action: str) -> bool:
    return any(fnmatchcase(action.lower(), granted.lower()) for granted in allowed_actions(name))


def allows_on(name: str, action: str, resource: str) -> bool:
    """Whether a statement of the document allows ``action`` on ``resource``."""
    for statement in policy(name)["Statement"]:
        actions, resources = statement["Action"], statement["Resource"]
        actions = [actions] if isinstance(actions, str) else actions
        resources = [resources] if isinstance(resources, str) else resources
        if any(fnmatchcase(action.lower(), granted.lower()) for granted in actions) and any(
            fnmatchcase(resource, granted) for granted in resources
        ):
            return True
    return False


@cache
def operations(service: str) -> dict[str, str]:
    """{"get_job": "GetJob", ...} from botocore's model of the service."""
    model = botocore.session.get_session().get_service_model(service)
    return {xform_name(name): name for name in model.operation_names}


def _literal_service(node: ast.AST) -> str | None:
    """ "glue" for aws_client("glue") / boto3.client("glue")."""
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in CLIENT_FACTORIES and node.args[0].value in SERVICES:
            return node.args[0].value
    return None


def aws_calls_in(path: Path) -> set[str]:
    """ "service:Operation" for each call on an AWS client in the file."""
    tree = ast.parse(path.read_text())
    named = {}  # variables assigned a client: s3 = aws_client("s3")
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and (service := _literal_service(node.value)):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    named[target.id] = service
    calls = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        receiver, method = node.func.value, node.func.attr
        service = _literal_service(receiver)
        if service is None and isinstance(receiver, ast.Name | ast.Attribute):
            name = receiver.id if isinstance(receiver, ast.Name) else receiver.attr
            service = named.get(name) or (name if name in SERVICES else None)
        if service is None:
            continue
        if method == "get_paginator" and node.args and isinstance(node.args[0], ast.Constant):
            method = node.args[0].value
        if method in operations(service):
            calls.add(f"{service}:{operations(service)[method]}")
    return calls


def code_calls() -> dict[str, set[str]]:
    """The AWS calls of the code, by the policy that must allow them."""
    calls: dict[str, set[str]] = {
        "app": set(),
        "glue-jobs": set(),
        "deploy": set(),
        "table-optimizer": set(),  # no code of ours runs as it
    }
    for path in sorted((ROOT / "lake").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith("lake/aws/deploy/"):
            owner = "deploy"
        elif relative.startswith("lake/glue_jobs/"):
            owner = "glue-jobs"
        else:
            owner = "app"
        calls[owner] |= aws_calls_in(path)
    return calls


@pytest.mark.parametrize("name", ["app", "glue-jobs", "deploy", "glue-trust", "table-optimizer"])
def test_every_document_is_a_policy(name):
    document = policy(name)
    assert document["Version"] == "2012-10-17"
    sids = [statement["Sid"] for statement in document["Statement"]]
    assert len(sids) == len(set(sids))


def test_the_scan_finds_the_calls_it_must():
    """A scan that found nothing would let every policy pass."""
    calls = code_calls()
    assert {"glue:CreateJob", "glue:UpdateJob", "s3:PutObject", "s3:ListObjectsV2"} <= calls[
        "deploy"
    ]
    assert {"athena:CreateWorkGroup", "ec2:DescribeSubnets"} <= calls["deploy"]
    assert {"glue:CreateTableOptimizer", "glue:DeleteTableOptimizer"} <= calls["deploy"]
    assert {"glue:StartWorkflowRun", "glue:GetWorkflowRun"} <= calls["app"]
    assert "glue:PutWorkflowRunProperties" in calls["glue-jobs"]


@pytest.mark.parametrize("owner", ["app", "glue-jobs", "deploy", "table-optimizer"])
def test_every_aws_call_is_allowed_by_its_policy(owner):
    needed = {IAM_ACTIONS.get(call, call) for call in code_calls()[owner] | LIBRARY_CALLS[owner]}

    missing = sorted(action for action in needed if not allows(owner, action))

    assert missing == [], f"docs/aws-iam-{owner}.json does not allow {missing}"


@pytest.mark.parametrize("owner", sorted(REQUIRED_GRANTS))
def test_calls_are_allowed_on_the_resources_aws_checks(owner):
    missing = [
        f"{action} on {resource}"
        for action, resource in REQUIRED_GRANTS[owner]
        if not allows_on(owner, action, resource)
    ]
    assert missing == [], f"docs/aws-iam-{owner}.json does not allow {missing}"


@pytest.mark.parametrize("name", ["app", "glue-jobs", "deploy", "table-optimizer"])
def test_policies_name_their_resources(name):
    """Least privilege: "*" only for actions that take no resource."""
    for statement in policy(name)["Statement"]:
        resources = statement["Resource"]
        resources = [resources] if isinstance(resources, str) else resources
        actions = statement["Action"]
        actions = [actions] if isinstance(actions, str) else actions
        if "*" in resources:
            assert set(actions) <= RESOURCE_STAR_ACTIONS, statement["Sid"]
        assert all("*" not in action for action in actions), statement["Sid"]
        for resource in resources:
            assert resource == "*" or re.match(r"arn:aws:[a-z0-9-]+:", resource), resource


def test_the_app_cannot_change_the_catalog_or_the_lake_beyond_raw_retention():
    for action in ("glue:CreateTable", "glue:UpdateTable", "glue:DeleteDatabase"):
        assert not allows("app", action), action
    # Raw retention deletes old raw increments and their partitions, nothing else.
    for zone in ("staging", "marts", "_glue", "_athena"):
        resource = f"arn:aws:s3:::LAKE_BUCKET/lake/{zone}/rental/data/part-0.parquet"
        assert not allows_on("app", "s3:DeleteObject", resource), zone
    for database in ("sakila_staging", "sakila_marts"):
        resource = f"{GLUE_ARN}:table/{database}/rental"
        assert not allows_on("app", "glue:BatchDeletePartition", resource), database
