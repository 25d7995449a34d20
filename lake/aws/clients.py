"""boto3 clients for the lake's AWS services, configured from settings.

Every client uses ``AWS_REGION`` and, when set, ``AWS_ENDPOINT_URL`` (moto's
server in tests). Throttling and transient errors are retried by botocore
with backoff ("adaptive" mode); callers see only what is left after that.
"""

from functools import lru_cache

import boto3
from botocore.config import Config
from django.conf import settings

RETRIES = Config(retries={"mode": "adaptive", "max_attempts": 8})


def aws_client(service: str):
    """A client for ``service`` ("glue", "s3", "athena"...)."""
    return _client(service, settings.AWS_REGION, settings.AWS_ENDPOINT_URL)


@lru_cache(maxsize=16)
def _client(service: str, region: str, endpoint_url: str):
    return boto3.session.Session().client(
        service, region_name=region or None, endpoint_url=endpoint_url or None, config=RETRIES
    )


def s3_split(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` as ("bucket", "some/prefix")."""
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri!r}")
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key.strip("/")
