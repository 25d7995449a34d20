"""The API's one error format: RFC 9457 problem details (``application/problem+json``).

drf-standardized-errors handles the exceptions (DRF's, Django's 404 and 403,
anything else as a 500 that is still logged and signalled) and works out which
statuses each operation can return, for the schema; this module renders its
errors as problems and documents them as such. Every error answers::

    {"type": "about:blank", "title": "Bad Request", "status": 400,
     "detail": "amount: Enter a number.", "instance": "/api/v1/payments/",
     "code": "invalid", "errors": [{"code": "invalid", "detail": "Enter a number.",
     "attr": "amount"}]}

``code`` is machine-readable (DRF's codes: ``invalid``, ``required``,
``not_found``, ``permission_denied``, ... and ours: ``conflict``,
``idempotency_key_reused``); ``errors`` lists every error, with the invalid
field's name in ``attr`` (dotted for nested fields, null when no field).
"""

from http import HTTPStatus

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from drf_spectacular.utils import inline_serializer
from drf_standardized_errors.formatter import ExceptionFormatter
from drf_standardized_errors.handler import ExceptionHandler
from drf_standardized_errors.openapi import AutoSchema as ErrorsAutoSchema
from drf_standardized_errors.types import ErrorResponse
from rest_framework import exceptions, serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

PROBLEM_JSON = "application/problem+json"


class Conflict(exceptions.APIException):
    """409: the state of what the request acts on does not allow it. ``extra``
    adds members to the problem (``active_run``: the run in the way)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "The resource's state does not allow this."

    def __init__(self, detail: str | None = None, code: str | None = None, **extra) -> None:
        super().__init__(detail, code)
        self.extra = extra


class UnprocessableContent(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "unprocessable"
    default_detail = "The request cannot be processed as sent."


def problem(
    status_code: int, detail: str, code: str, *, instance: str, errors: list | None = None
) -> dict:
    """A problem's body (RFC 9457 with our ``code`` and ``errors`` members)."""
    return {
        "type": "about:blank",  # the status says it all; ``code`` says more
        "title": HTTPStatus(status_code).phrase,
        "status": status_code,
        "detail": detail,
        "instance": instance,
        "code": code,
        "errors": errors
        if errors is not None
        else [{"code": code, "detail": detail, "attr": None}],
    }


class ProblemFormatter(ExceptionFormatter):
    def format_error_response(self, error_response: ErrorResponse) -> dict:
        errors = [
            {"code": error.code or "invalid", "detail": error.detail, "attr": error.attr}
            for error in error_response.errors
        ]
        if isinstance(self.exc, exceptions.ValidationError):
            code = "invalid"
            detail = "; ".join(
                f"{error['attr']}: {error['detail']}" if error["attr"] else error["detail"]
                for error in errors
            )
        else:
            code = errors[0]["code"] if errors else self.exc.default_code
            detail = errors[0]["detail"] if errors else str(self.exc.default_detail)
        request = self.context.get("request")
        body = problem(
            self.exc.status_code,
            detail,
            code,
            instance=request.path if request is not None else "",
            errors=errors,
        )
        return {**body, **getattr(self.exc, "extra", {})}


def error_details(errors: list[DjangoValidationError]) -> list[exceptions.ErrorDetail]:
    """Django's errors as DRF's, each keeping its code (``invalid`` where none)."""
    return [
        exceptions.ErrorDetail(message, error.code or "invalid")
        for error in errors
        for message in error.messages
    ]


class ProblemHandler(ExceptionHandler):
    def convert_known_exceptions(self, exc: Exception) -> Exception:
        # Services raise Django's ValidationError keyed by field name
        # ({"film": "No free copy ..."}): a 400 with the same keys.
        if isinstance(exc, DjangoValidationError):
            if hasattr(exc, "error_dict"):
                return exceptions.ValidationError(
                    {field: error_details(errors) for field, errors in exc.error_dict.items()}
                )
            return exceptions.ValidationError({"non_field_errors": error_details(exc.error_list)})
        return super().convert_known_exceptions(exc)

    def get_response(self, exc: exceptions.APIException, data: dict) -> Response:
        response = super().get_response(exc, data)
        request = self.context.get("request")
        renderer = getattr(request, "accepted_renderer", None)
        if renderer is None or isinstance(renderer, JSONRenderer):
            response.content_type = PROBLEM_JSON
        return response


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 page (handler404), but a problem for an unknown path under /api/."""
    if request.path.startswith("/api/"):
        body = problem(404, "No API endpoint at this address.", "not_found", instance=request.path)
        return JsonResponse(body, status=404, content_type=PROBLEM_JSON)
    return defaults.page_not_found(request, exception)


# --- The schema ---------------------------------------------------------------------------


class ProblemErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable: required, invalid, not_found, ...")
    detail = serializers.CharField(help_text="For people.")
    attr = serializers.CharField(
        allow_null=True, help_text="The field in error (dotted when nested); null: none."
    )


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details, with a machine-readable ``code`` and every error."""

    type = serializers.CharField(help_text='A URI naming the problem type ("about:blank").')
    title = serializers.CharField(help_text="The HTTP status's phrase.")
    status = serializers.IntegerField(help_text="The HTTP status code.")
    detail = serializers.CharField(help_text="What went wrong, for people.")
    instance = serializers.CharField(help_text="The path of the request.")
    code = serializers.CharField(help_text="Machine-readable: invalid (see errors), conflict, ...")
    errors = ProblemErrorSerializer(many=True)

    class Meta:
        ref_name = "Problem"


def conflict_problem(**extra_fields: serializers.Field) -> serializers.Serializer:
    """The schema of a 409 problem with the members ``Conflict`` adds."""
    return inline_serializer(
        name="ConflictProblem",
        fields={**ProblemSerializer().get_fields(), **extra_fields},
    )


class AutoSchema(ErrorsAutoSchema):
    """drf-standardized-errors' schema (the statuses an operation can return),
    with every error body a Problem in ``application/problem+json``."""

    def _get_error_response_serializer(self, status_code: str):
        return ProblemSerializer

    def _get_response_for_code(
        self, serializer, status_code, media_types=None, direction="response"
    ):
        if str(status_code)[0] in "45" and media_types is None:
            media_types = [PROBLEM_JSON]
        return super()._get_response_for_code(serializer, status_code, media_types, direction)

    def _get_error_response_examples(self) -> list:
        return []  # the library's examples show its own format
