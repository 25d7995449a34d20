"""The S3 resources: the lake's buckets (created when missing, never
deleted), the uploaded job assets, and prefixes of objects (the lake's
data, scratch files) that destroy empties."""

import hashlib
from typing import Any

from botocore.exceptions import ClientError
from django.conf import settings

from lake.aws.clients import aws_client, s3_split
from lake.aws.deploy.resource import DeployError, Resource, is_not_found, read_or_none


class S3Bucket(Resource):
    """A bucket the lake uses. Created when missing (public access blocked);
    an existing bucket's settings are its owner's, so they are not compared."""

    kind = "S3 bucket"

    def read(self) -> dict[str, Any] | None:
        def head() -> dict[str, Any]:
            aws_client("s3").head_bucket(Bucket=self.name)
            return {}

        return read_or_none(head)

    def create(self) -> None:
        s3 = aws_client("s3")
        location = {}
        if settings.AWS_REGION != "us-east-1":  # us-east-1 refuses its own name here
            location = {"CreateBucketConfiguration": {"LocationConstraint": settings.AWS_REGION}}
        s3.create_bucket(Bucket=self.name, **location)
        s3.put_public_access_block(
            Bucket=self.name,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )


class S3Object(Resource):
    """An uploaded file; compared by the SHA-256 kept in its metadata (an
    ETag is not the MD5 under SSE-KMS or multipart uploads)."""

    kind = "S3 object"

    def __init__(self, uri: str, body: bytes | None = None) -> None:
        super().__init__(uri)
        self.bucket, self.key = s3_split(uri)
        self.body = body

    def desired(self) -> dict[str, Any]:
        return {"sha256": hashlib.sha256(self.body or b"").hexdigest()}

    def read(self) -> dict[str, Any] | None:
        head = read_or_none(lambda: aws_client("s3").head_object(Bucket=self.bucket, Key=self.key))
        return None if head is None else {"sha256": head.get("Metadata", {}).get("sha256")}

    def create(self) -> None:
        aws_client("s3").put_object(
            Bucket=self.bucket, Key=self.key, Body=self.body, Metadata=self.desired()
        )

    def update(self, current: dict[str, Any]) -> None:
        self.create()

    def delete(self) -> None:
        aws_client("s3").delete_object(Bucket=self.bucket, Key=self.key)


class S3Prefix(Resource):
    """Every object under a prefix (the lake's data, scratch files)."""

    kind = "S3 prefix"

    def __init__(self, uri: str) -> None:
        self.bucket, prefix = s3_split(uri)
        self.prefix = f"{prefix}/" if prefix else ""
        super().__init__(f"s3://{self.bucket}/{self.prefix}")

    def keys(self) -> list[str]:
        """The keys under the prefix (none if the bucket does not exist)."""
        pages = aws_client("s3").get_paginator("list_objects_v2")
        try:
            return [
                item["Key"]
                for page in pages.paginate(Bucket=self.bucket, Prefix=self.prefix)
                for item in page.get("Contents", [])
            ]
        except ClientError as error:
            if is_not_found(error):
                return []
            raise

    def read(self) -> dict[str, Any] | None:
        count = len(self.keys())
        return {"objects": count} if count else None

    def delete(self) -> None:
        s3 = aws_client("s3")
        keys = self.keys()
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1,000 keys
            batch = [{"Key": key} for key in keys[start : start + 1000]]
            answer = s3.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
            if errors := answer.get("Errors"):
                first = errors[0]
                raise DeployError(
                    f"{self}: {len(errors)} objects not deleted, e.g. {first['Key']}: "
                    f"{first.get('Code')}: {first.get('Message')}"
                )
