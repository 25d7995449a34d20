from contextlib import suppress
from pathlib import Path

import boto3
import pytest

from lake.aws.clients import aws_client
from lake.catalog import catalog_cache_clear
from tests.lake.aws.moto_gaps import moto_gaps  # noqa: F401 (a fixture)

WAREHOUSE_BUCKET = "sakila-lake-test"
RESULTS_BUCKET = "sakila-athena-results"
RAW_DATABASE = "sakila_raw"  # the crawler's, with GLUE_DATABASE=sakila
SERVICES = ("s3", "glue", "athena", "ec2", "iam", "secretsmanager")
READ_ONLY_PREFIXES = ("Get", "Head", "List", "Describe")
GLUE_TRUST = (Path(__file__).resolve().parents[3] / "docs" / "aws-iam-glue-trust.json").read_text()


@pytest.fixture
def deploy_settings(aws, settings, moto_gaps):  # noqa: F811
    """Production-like AWS settings on moto: the Glue role, the JDBC secret, a
    VPC subnet and security group for the JDBC connection (what step 1 of
    docs/aws.md prepares); the buckets are left for deploy to create."""
    role = aws_client("iam").create_role(
        RoleName="sakila-lake-glue", AssumeRolePolicyDocument=GLUE_TRUST
    )["Role"]["Arn"]
    aws_client("secretsmanager").create_secret(
        Name="sakila/rds-login", SecretString='{"username": "etl", "password": "x"}'
    )
    ec2 = aws_client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1b")
    group = ec2.create_security_group(GroupName="sakila-glue", Description="glue", VpcId=vpc)
    settings.LAKE_WAREHOUSE = f"s3://{WAREHOUSE_BUCKET}/lake"
    settings.GLUE_ASSETS_URI = f"s3://{WAREHOUSE_BUCKET}/lake/_glue"
    settings.ATHENA_S3_STAGING_DIR = f"s3://{RESULTS_BUCKET}/results"
    settings.ATHENA_WORKGROUP = "sakila-lake"
    settings.GLUE_DATABASE = "sakila"
    settings.GLUE_NAME_PREFIX = "sakila-lake"
    settings.GLUE_ROLE_ARN = role
    settings.GLUE_VERSION = "5.0"
    settings.GLUE_WORKER_TYPE = "G.1X"
    settings.GLUE_WORKERS = 2
    settings.GLUE_JOB_TIMEOUT_MINUTES = 120
    settings.GLUE_JDBC_URL = "jdbc:mysql://sakila.abc123.us-east-1.rds.amazonaws.com:3306/sakila"
    settings.GLUE_JDBC_SECRET_ID = "sakila/rds-login"
    settings.GLUE_SUBNET_ID = subnet["Subnet"]["SubnetId"]
    settings.GLUE_SECURITY_GROUP_IDS = [group["GroupId"]]
    settings.GLUE_AVAILABILITY_ZONE = ""  # deploy reads it from the subnet
    return settings


@pytest.fixture
def aws_calls(deploy_settings):
    """Every AWS operation the app's clients make, as "service:Operation"."""
    calls: list[str] = []

    def record(model, **kwargs) -> None:
        calls.append(f"{model.service_model.endpoint_prefix}:{model.name}")

    clients = [aws_client(service) for service in SERVICES]
    for client in clients:
        client.meta.events.register("before-call", record, unique_id="test-aws-calls")
    yield calls
    for client in clients:
        client.meta.events.unregister("before-call", unique_id="test-aws-calls")


def mutating(calls: list[str]) -> list[str]:
    return [call for call in calls if not call.split(":")[1].startswith(READ_ONLY_PREFIXES)]


@pytest.fixture
def on_glue(aws, settings, monkeypatch):
    """The app on AWS (the Glue engine and catalog), the warehouse on moto's S3;
    the Glue client made here stands in for the crawler."""
    boto3.client("s3", endpoint_url=aws).create_bucket(Bucket=WAREHOUSE_BUCKET)
    monkeypatch.delenv("AWS_ENDPOINT_URL")  # pyiceberg reaches moto through the settings
    catalog_cache_clear()
    settings.LAKE_ENGINE = "glue"
    settings.LAKE_CATALOG = "glue"
    settings.LAKE_WAREHOUSE = f"s3://{WAREHOUSE_BUCKET}/lake"
    settings.GLUE_DATABASE = "sakila"
    return boto3.client("glue", endpoint_url=aws)


def crawl(glue, table: str, columns: list[tuple[str, str]], runs: list[int]) -> None:
    """What the crawler writes for a raw table: the table (a new version when
    it exists) partitioned by run_id, and a partition per run."""
    location = f"s3://{WAREHOUSE_BUCKET}/lake/raw/{table}/"
    table_input = {
        "Name": table,
        "StorageDescriptor": {
            "Columns": [{"Name": name, "Type": kind} for name, kind in columns],
            "Location": location,
        },
        "PartitionKeys": [{"Name": "run_id", "Type": "string"}],
        "TableType": "EXTERNAL_TABLE",
    }
    with suppress(glue.exceptions.AlreadyExistsException):
        glue.create_database(DatabaseInput={"Name": RAW_DATABASE})
    try:
        glue.create_table(DatabaseName=RAW_DATABASE, TableInput=table_input)
    except glue.exceptions.AlreadyExistsException:
        glue.update_table(DatabaseName=RAW_DATABASE, TableInput=table_input)
    for run in runs:
        glue.create_partition(
            DatabaseName=RAW_DATABASE,
            TableName=table,
            PartitionInput={
                "Values": [str(run)],
                "StorageDescriptor": {"Location": f"{location}run_id={run}/"},
            },
        )
