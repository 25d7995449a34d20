"""REST framework policies shared by every API of the site (see REST_FRAMEWORK)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import pagination, permissions
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response


class ModelPermissions(permissions.DjangoModelPermissions):
    """Django model permissions, with reading guarded by the view permission.

    DRF's own class lets any logged-in user read; here a clerk without
    ``lake.view_pipelinerun`` cannot list runs, as in the admin. Views whose
    writes are actions (return a rental) name their permission themselves.
    """

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler, plus business-rule errors from services as 400s.

    Services raise Django's ``ValidationError`` keyed by field name
    (``{"film": "No free copy ..."}``); the API answers with the same keys.
    """
    # rest_framework.views imports this module's classes through the settings.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            exc = ValidationError(detail=exc.message_dict)
        else:
            exc = ValidationError(detail={"non_field_errors": exc.messages})
    return drf_exception_handler(exc, context)
