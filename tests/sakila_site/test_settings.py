"""Settings come from the environment; production settings refuse unsafe values."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "kq2-9x!r7v_w3m8n4b6c1z0l5j(h)g2f7d9s8a6p4o3i1u0y5t",
    "ALLOWED_HOSTS": "sakila.example.com",
}
SETTING_NAMES = (
    "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS",
    "LAKE_ENGINE", "LAKE_CATALOG", "QUERY_ENGINE", "LAKE_WAREHOUSE", "LAKE_CATALOG_URI",
    "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "ATHENA_S3_STAGING_DIR",
)  # fmt: skip
ON_AWS = {
    "LAKE_ENGINE": "glue",
    "LAKE_CATALOG": "glue",
    "QUERY_ENGINE": "athena",
    "LAKE_WAREHOUSE": "s3://sakila-lake-prod/lake",
    "AWS_REGION": "eu-west-1",
}


def manage(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in SETTING_NAMES}
    clean.update(SAKILA_VAR_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_deploy_check_passes_with_production_variables(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", tmp_path=tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {**PRODUCTION, "SECRET_KEY": ""}
    result = manage("check", tmp_path=tmp_path, **env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set in the environment when DEBUG is off" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts(tmp_path):
    env = {**PRODUCTION, "ALLOWED_HOSTS": ""}
    result = manage("check", tmp_path=tmp_path, **env)
    assert "ALLOWED_HOSTS must be set" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG must be true or false, not 'maybe'"),
        ("DATABASE_URL", "postgres://u@h/db", "DATABASE_URL must be sqlite:// or mysql://"),
        ("SECURE_HSTS_SECONDS", "a year", "SECURE_HSTS_SECONDS must be a whole number"),
        ("LAKE_ENGINE", "flink", "LAKE_ENGINE must be one of glue, local, spark"),
        ("QUERY_ENGINE", "trino", "QUERY_ENGINE must be one of athena, duckdb"),
        ("ATHENA_PRICE_PER_TB", "five", "ATHENA_PRICE_PER_TB must be a number, not 'five'"),
    ],
)
def test_bad_values_are_named(tmp_path, name, value, message):
    result = manage("check", tmp_path=tmp_path, **{name: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_database_url_chooses_the_backend(tmp_path):
    script = (
        "from django.conf import settings; d = settings.DATABASES['default']; "
        "print(d['ENGINE'], d['NAME'], d['HOST'], d['PORT'], d['OPTIONS']['charset'])"
    )
    result = manage(
        "shell", "-v", "0", "-c", script, tmp_path=tmp_path,
        DATABASE_URL="mysql://sakila:secret@db.internal:3307/sakila",
    )  # fmt: skip
    assert result.stdout.split() == [
        "django.db.backends.mysql", "sakila", "db.internal", "3307", "utf8mb4",
    ]  # fmt: skip


def test_embedded_default_is_sqlite_under_var(tmp_path):
    script = "from django.conf import settings; print(settings.DATABASES['default']['NAME'])"
    result = manage("shell", "-v", "0", "-c", script, tmp_path=tmp_path)
    assert result.stdout.strip() == str(tmp_path / "sakila.sqlite3")


def test_aws_settings_derive_the_glue_and_athena_locations(tmp_path):
    script = (
        "from django.conf import settings as s; "
        "print(s.GLUE_ASSETS_URI, s.ATHENA_S3_STAGING_DIR, s.LAKE_CATALOG_URI or '-')"
    )
    result = manage("shell", "-v", "0", "-c", script, tmp_path=tmp_path, **ON_AWS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "s3://sakila-lake-prod/lake/_glue", "s3://sakila-lake-prod/lake/_athena", "-",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {**ON_AWS, "AWS_REGION": ""},
            "LAKE_ENGINE=glue, LAKE_CATALOG=glue, QUERY_ENGINE=athena needs AWS_REGION",
        ),
        (
            {**ON_AWS, "LAKE_WAREHOUSE": "/srv/lake", "LAKE_CATALOG_URI": "sqlite:///c.db"},
            "needs LAKE_WAREHOUSE (an s3:// URI), ATHENA_S3_STAGING_DIR",
        ),
        (
            {"QUERY_ENGINE": "athena"},
            "QUERY_ENGINE=athena needs AWS_REGION, ATHENA_S3_STAGING_DIR, LAKE_CATALOG=glue",
        ),
    ],
)
def test_aws_engines_name_what_they_miss(tmp_path, env, message):
    result = manage("check", tmp_path=tmp_path, **env)
    assert result.returncode != 0
    assert message in result.stderr


def test_commands_do_not_log_where_boto3_found_its_credentials(tmp_path):
    """botocore logs "Found credentials in environment variables." at INFO each
    time a client is made: not worth a line of every command's output."""
    credentials = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    code = "import boto3, logging; boto3.client('s3', region_name='us-east-1'); " + (
        "logging.getLogger('lake').warning('still logged')"
    )
    result = manage("shell", "-c", code, tmp_path=tmp_path, **credentials)
    assert result.returncode == 0, result.stderr
    assert "Found credentials" not in result.stderr
    assert "still logged" in result.stderr


def test_the_spark_engine_refuses_a_catalog_spark_cannot_reach(tmp_path):
    result = manage("check", tmp_path=tmp_path, LAKE_ENGINE="spark", LAKE_CATALOG="glue")
    assert result.returncode != 0
    assert "LAKE_ENGINE=spark needs LAKE_CATALOG=sql with a sqlite:/// LAKE_CATALOG_URI" in (
        result.stderr
    )
    assert manage("check", tmp_path=tmp_path, LAKE_ENGINE="spark").returncode == 0
