"""Reading the API's errors (RFC 9457 problems, ``sakila_site/problems.py``) in tests."""

from collections import defaultdict

PROBLEM_JSON = "application/problem+json"


def problem_of(response) -> dict:
    """The problem a response carries, checked to be one (media type, members, status)."""
    assert response["Content-Type"] == PROBLEM_JSON, response.content
    body = response.json()
    assert body["status"] == response.status_code
    assert {"type", "title", "status", "detail", "instance", "code", "errors"} <= set(body)
    return body


def errors_of(response) -> dict[str, list[str]]:
    """The errors of a problem by field (``non_field_errors`` for none), as DRF keyed them."""
    errors: dict[str, list[str]] = defaultdict(list)
    for error in problem_of(response)["errors"]:
        errors[error["attr"] or "non_field_errors"].append(error["detail"])
    return dict(errors)


def detail_of(response) -> str:
    return problem_of(response)["detail"]
