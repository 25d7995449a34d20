"""REST framework policies shared by every API of the site (see REST_FRAMEWORK)."""

import re

from django.http import HttpRequest, HttpResponse
from django.middleware.http import ConditionalGetMiddleware
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
    """DRF's, with one ``ordering`` value from a listed set (else a 400; DRF
    ignores what it does not know), and a tie-break when the client orders by
    something else than the primary key, so that rows with equal values keep
    their page.

    The tie-break is the primary key, or the view's ``ordering_tiebreak``
    (fields that complete a unique index, so that the index serves the sort).
    """

    def get_ordering(self, request, queryset, view) -> list[str] | None:
        if self.ordering_param in request.query_params:  # even empty: refused
            terms = request.query_params[self.ordering_param].split(",")
            ordering = self.remove_invalid_fields(queryset, terms, view, request)
        else:
            ordering = self.get_default_ordering(view)
        pk_names = {"pk", queryset.model._meta.pk.name}
        if ordering and not pk_names & {field.lstrip("-") for field in ordering}:
            direction = "-" if ordering[0].startswith("-") else ""
            tiebreak = getattr(view, "ordering_tiebreak", ("pk",))
            named = {field.lstrip("-") for field in ordering}
            ordering = [*ordering, *(direction + f for f in tiebreak if f not in named)]
        return ordering

    def remove_invalid_fields(self, queryset, fields, view, request) -> list[str]:
        allowed = ordering_values(view)
        if len(fields) != 1 or fields[0] not in allowed:
            raise ValidationError(
                {self.ordering_param: [f"Order by one of {', '.join(allowed)}."]}, code="invalid"
            )
        return fields

    def get_schema_operation_parameters(self, view) -> list[dict]:
        [parameter] = super().get_schema_operation_parameters(view)
        parameter["schema"]["enum"] = ordering_values(view)
        parameter["description"] = "The field to sort by; - first: descending."
        return [parameter]


def ordering_values(view) -> list[str]:
    """The ``ordering`` values a list takes: each field, ascending and descending."""
    return [value for field in view.ordering_fields for value in (field, f"-{field}")]


class SearchFilter(filters.SearchFilter):
    """DRF's, with a refused search (a NUL character) reported under its name."""

    def get_search_terms(self, request) -> list[str]:
        try:
            return super().get_search_terms(request)
        except ValidationError as error:
            raise ValidationError({self.search_param: error.detail}) from None


def whole_number_param(request: Request, name: str, maximum: int | None = None) -> int | None:
    """A query parameter that must be a whole number from 1 (to ``maximum``); None if absent."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not re.fullmatch(r"[0-9]+", raw) or not 1 <= int(raw) <= (maximum or int(raw)):
        limit = f"from 1 to {maximum}" if maximum else "of at least 1"
        raise ValidationError({name: [f"Enter a whole number {limit}."]}, code="invalid")
    return int(raw)


class PageSize:
    """``page_size`` from 1 to 500 (default 50), a 400 outside it, documented so."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request: Request) -> int:
        size = whole_number_param(request, self.page_size_query_param, self.max_page_size)
        return size or self.page_size

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(
                    minimum=1, maximum=self.max_page_size, default=self.page_size
                )
                parameter["description"] = f"Rows per page, 1 to {self.max_page_size}."
            elif parameter["name"] == getattr(self, "page_query_param", None):
                parameter["schema"].update(minimum=1)
        return parameters

    def get_paginated_response_schema(self, schema: dict) -> dict:
        # DRF writes OpenAPI 3.0's ``nullable`` (and a cursor example with a stray
        # quote); the schema is OpenAPI 3.1.
        response = super().get_paginated_response_schema(schema)
        for link, what in (("next", "The next page"), ("previous", "The page before")):
            response["properties"][link] = {
                "type": ["string", "null"],
                "format": "uri",
                "description": f"{what}'s address; null: none.",
            }
        return response


class PageNumberPagination(PageSize, pagination.PageNumberPagination):
    """Numbered pages; ``page`` past the last is a 404, one that is not a whole
    number from 1 a 400."""

    def get_page_number(self, request: Request, paginator) -> int | str:
        return whole_number_param(request, self.page_query_param) or 1


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
        return rows_by_key(queryset, page)


class CursorByKeyPagination(PageSize, pagination.CursorPagination):
    """Pages that stay put while rows arrive: ``next`` and ``previous`` carry a
    cursor (a position in the order, not a page number), so a new rental at the
    top shifts nothing. Reads keys first, as ``PageByKeyPagination`` does. The
    order is the view's ``ordering`` or the client's ``ordering``."""

    def paginate_queryset(self, queryset, request, view=None) -> list | None:
        order = self.get_ordering(request, queryset, view)
        fields = {"pk", *(field.lstrip("-") for field in order)}
        keys = queryset.values(*fields).prefetch_related(None)
        page = super().paginate_queryset(keys, request, view)
        return rows_by_key(queryset, [row["pk"] for row in page])


def rows_by_key(queryset, keys: list) -> list:
    rows = queryset.in_bulk(keys)
    return [rows[key] for key in keys if key in rows]  # unless deleted meanwhile


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


def schema_v1_only(endpoints: list, **kwargs) -> list:
    """drf-spectacular's preprocessing hook: the schema documents /api/v1/ (the
    /api/ alias answers the same)."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/v1/")]


NOT_CONDITIONAL = ("/api/docs/", "/api/schema/")  # pages for people, and the schema


class ApiConditionalGetMiddleware(ConditionalGetMiddleware):
    """ETag on every API GET (a hash of the answer), and 304 Not Modified when
    If-None-Match names it: a client polling a run or re-reading a customer
    downloads only what changed. Private and revalidated: answers depend on who
    asks and change with the data."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if not request.path.startswith("/api/") or request.path.startswith(NOT_CONDITIONAL):
            return response
        if request.method == "GET" and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "private, no-cache"
        return super().process_response(request, response)


def schema_open_operations(result: dict, generator, request, public) -> dict:
    """drf-spectacular's postprocessing hook: an operation that needs no login
    (the token's) says so with an empty ``security``, rather than none at all."""
    for operations in result["paths"].values():
        for operation in operations.values():
            operation.setdefault("security", [])
    return result


def schema_conditional_get(result: dict, generator, request, public) -> dict:
    """drf-spectacular's postprocessing hook: documents ETag, If-None-Match and
    304 on every GET (``ApiConditionalGetMiddleware``)."""
    for operations in result["paths"].values():
        get = operations.get("get")
        if get is None:
            continue
        get.setdefault("parameters", []).append(
            {
                "in": "header",
                "name": "If-None-Match",
                "schema": {"type": "string"},
                "description": "An ETag of an earlier answer: 304 if it is still the same.",
            }
        )
        for code, response in get["responses"].items():
            if code.startswith("2"):
                response.setdefault("headers", {})["ETag"] = {
                    "schema": {"type": "string"},
                    "description": "This answer's version, for If-None-Match.",
                }
        get["responses"]["304"] = {"description": "Not modified since the ETag given."}
    return result
