"""What every resource deploy manages builds on: the ``Resource`` interface
(read, create, update, delete, and ``desired()`` to compare with what is read),
the tag deploy puts on what it creates, and AWS's errors read as "not found"
or as one line for the user."""

from collections.abc import Callable
from typing import Any, ClassVar

from botocore.exceptions import ClientError

# Every resource deploy creates carries this tag, so they can be found in the console.
TAG_KEY, TAG_VALUE = "managed-by", "sakila-lake deploy"
NOT_FOUND_CODES = {
    "EntityNotFoundException", "NoSuchKey", "NoSuchBucket", "404", "NotFound",
    "NoSuchEntity", "ResourceNotFoundException", "InvalidSubnetID.NotFound",
    "InvalidGroup.NotFound", "InvalidGroupId.Malformed", "InvalidSubnetID.Malformed",
}  # fmt: skip


class DeployError(Exception):
    """A deploy or destroy that cannot go on; the message says why."""


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def is_not_found(error: ClientError) -> bool:
    code = _error_code(error)
    message = str(error.response.get("Error", {}).get("Message", ""))
    # Athena answers a missing workgroup with InvalidRequestException.
    return code in NOT_FOUND_CODES or (
        code == "InvalidRequestException" and "not found" in message.lower()
    )


def aws_message(error: Exception) -> str:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code = details.get("Code", "")
        if code == "403":  # S3 answers HEAD requests with no message
            return "403 Forbidden: access denied (another account's bucket, or not allowed by IAM)"
        return f"{code}: {details.get('Message', error)}"
    return str(error)


def managed_tags() -> dict[str, str]:
    return {TAG_KEY: TAG_VALUE}


class Resource:
    """One AWS resource deploy manages: how to read, create, update, delete it.

    ``desired()`` is shaped like what ``read()`` returns, so the two compare
    field by field; fields in ``immutable`` cannot change in place (replace).
    """

    kind: ClassVar[str] = ""
    immutable: ClassVar[tuple[str, ...]] = ()
    exact: ClassVar[tuple[str, ...]] = ()

    def __init__(self, name: str) -> None:
        self.name = name

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"

    def desired(self) -> dict[str, Any]:
        return {}

    def read(self) -> dict[str, Any] | None:
        raise NotImplementedError

    def create(self) -> None:
        raise NotImplementedError

    def update(self, current: dict[str, Any]) -> None:
        raise NotImplementedError

    def delete(self) -> None:
        raise NotImplementedError


def read_or_none(call: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    try:
        return call()
    except ClientError as error:
        if is_not_found(error):
            return None
        raise
