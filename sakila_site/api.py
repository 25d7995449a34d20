"""REST framework policies shared by every API of the site (see REST_FRAMEWORK)."""

from django.urls import reverse
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import filters, pagination, permissions, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
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


def permission_required(*perms: str) -> type[permissions.BasePermission]:
    """A permission class for an action that needs ``perms`` whatever its method
    (returning a rental is a POST that needs ``rentals.change_rental``)."""

    class HasPermissions(permissions.IsAuthenticated):
        def has_permission(self, request, view) -> bool:
            return super().has_permission(request, view) and request.user.has_perms(perms)

    HasPermissions.__name__ = HasPermissions.__qualname__ = f"Has({', '.join(perms)})"
    return HasPermissions


class OrderingFilter(filters.OrderingFilter):
    """DRF's, with a tie-break when the client orders by something else than
    the primary key, so that rows with equal values keep their page.

    The tie-break is the primary key, or the view's ``ordering_tiebreak``
    (fields that complete a unique index, so that the index serves the sort).
    """

    def get_ordering(self, request, queryset, view) -> list[str] | None:
        ordering = super().get_ordering(request, queryset, view)
        pk_names = {"pk", queryset.model._meta.pk.name}
        if ordering and not pk_names & {field.lstrip("-") for field in ordering}:
            direction = "-" if ordering[0].startswith("-") else ""
            tiebreak = getattr(view, "ordering_tiebreak", ("pk",))
            ordering = [*ordering, *(direction + field for field in tiebreak)]
        return ordering


class SearchFilter(filters.SearchFilter):
    """DRF's, with a refused search (a NUL character) reported under its name."""

    def get_search_terms(self, request) -> list[str]:
        try:
            return super().get_search_terms(request)
        except ValidationError as error:
            raise ValidationError({self.search_param: error.detail}) from None


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class PageByKeyPagination(PageNumberPagination):
    """Pages a queryset by primary key first, then reads that page's rows in full.

    Given the joins of ``select_related`` and an ORDER BY ... LIMIT, MariaDB's
    optimizer joins whole tables before it sorts (a page of 1.6 million
    rentals took 30 s); the page's keys alone come from one table and its
    indexes in milliseconds, and 50 rows read by key with their joins are
    cheap anywhere. Filters, ordering and the count apply to the key query.
    """

    def paginate_queryset(self, queryset, request, view=None) -> list | None:
        keys = queryset.values_list("pk", flat=True).prefetch_related(None)
        page = super().paginate_queryset(keys, request, view)
        if page is None:
            return None
        rows = queryset.in_bulk(page)
        return [rows[key] for key in page if key in rows]  # unless deleted meanwhile


class LocalDateTimeSchema(OpenApiSerializerFieldExtension):
    """Date-times in the OpenAPI schema, as the API really renders them.

    Sakila's times are naive local times (USE_TZ off) and DATETIME_FORMAT
    renders them without an offset, which RFC 3339's ``date-time`` requires:
    answers say so with a pattern. Requests keep ``date-time`` (an offset is
    converted to local time) and also take a time without one.
    """

    target_class = "rest_framework.fields.DateTimeField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction: str) -> dict:
        if direction == "request":
            return {"type": "string", "format": "date-time"}
        return {
            "type": "string",
            "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$",
            "example": "2005-05-24T22:53:30",
        }


LOCATION_HEADER = OpenApiParameter(
    "Location",
    OpenApiTypes.URI,
    location=OpenApiParameter.HEADER,
    response=[201],
    description="The address of what was created.",
)


def created(request: Request, data: dict, detail_url_name: str) -> Response:
    """201 with ``data`` (which has the new row's ``id``) and its address in Location."""
    url = request.build_absolute_uri(reverse(detail_url_name, args=[data["id"]]))
    return Response(data, status=status.HTTP_201_CREATED, headers={"Location": url})
