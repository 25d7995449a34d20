"""The reports API under /api/reports/: the report list with its parameter
schemas, and one report's rows as JSON.

Managers only (``lake.view_pipelinerun``, like the lake's other doors). The
view validates the query string, calls ``report_run`` and renders; money is
a string, exact to the cent, as elsewhere in the API.
"""

from datetime import date
from decimal import Decimal

from django.http import HttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from lake.query import QueryError
from reports.export import ReportFiltersInvalid, report_export
from reports.registry import (
    REPORTS,
    Report,
    ReportNotFound,
    report_get,
    report_params_clean,
    report_run,
    report_run_get,
)
from sakila_site.api import permission_required
from sakila_site.problems import PROBLEM_JSON, ProblemSerializer

REPORT_PERMISSION = "lake.view_pipelinerun"
TRUE = {"1", "true", "yes", "on"}


class LakeUnavailable(APIException):
    """The lake cannot answer yet (no data, or the run asked for has none): a
    state of the lake, not an error of the server, so 409 as the CSV export."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "lake_unavailable"


# --- Serializers (they document and shape the answers) ------------------------------------


class ReportParamSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=["date", "store", "int", "text"])
    label = serializers.CharField()
    default = serializers.JSONField(help_text="Any JSON value; null: no default.")
    min = serializers.IntegerField(source="minimum", allow_null=True)
    max = serializers.IntegerField(source="maximum", allow_null=True)


class ChartSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["bar", "time"])
    x = serializers.CharField()
    y = serializers.ListField(child=serializers.CharField())
    unit = serializers.ChoiceField(choices=["month", "day"], help_text="A time chart's periods.")


class ReportSerializer(serializers.Serializer):
    name = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    chart = ChartSerializer(allow_null=True)
    params = ReportParamSerializer(many=True)


class ReportMetaSerializer(serializers.Serializer):
    """What the engine says of the query; the Athena figures only on Athena."""

    snapshots = serializers.DictField(
        child=serializers.IntegerField(), help_text="The Iceberg snapshot read, per table."
    )
    engine = serializers.CharField(required=False, help_text="The engine that ran the query.")
    query_execution_id = serializers.CharField(required=False, help_text="Athena's query id.")
    bytes_scanned = serializers.IntegerField(required=False, help_text="Bytes Athena scanned.")
    result_reused = serializers.BooleanField(
        required=False, help_text="Athena reused an earlier result of the same query."
    )
    cost_usd = serializers.DecimalField(
        max_digits=None,
        decimal_places=None,
        required=False,
        help_text="Estimated cost in USD (ATHENA_PRICE_PER_TB, 10 MB minimum per query).",
    )


class ReportResultSerializer(serializers.Serializer):
    report = serializers.CharField()
    params = serializers.DictField(
        child=serializers.JSONField(),
        help_text="The cleaned parameters; null where not given (no filter).",
    )
    columns = serializers.ListField(child=serializers.CharField())
    rows = serializers.ListField(
        child=serializers.DictField(child=serializers.JSONField()),
        help_text="One object per row, keyed by column; money as a string.",
    )
    run_id = serializers.IntegerField(help_text="The pipeline run whose snapshots were read.")
    as_of = serializers.DateTimeField(help_text="When that run published them.")
    cached_at = serializers.DateTimeField(help_text="When the rows were computed.")
    from_cache = serializers.BooleanField()
    meta = ReportMetaSerializer()


def _json_value(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


# --- Views ---------------------------------------------------------------------------------


# The query parameters of a report (each report takes some of them); the last,
# refresh, is the JSON operation's only.
REPORT_PARAMETERS = [
    OpenApiParameter("start", OpenApiTypes.DATE, description="First rental date."),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last rental date (included)."),
    OpenApiParameter("store", OpenApiTypes.INT, description="The rented copy's store."),
    OpenApiParameter("top", OpenApiTypes.INT, description="How many (top_ reports)."),
    OpenApiParameter("category", OpenApiTypes.STR, description="A film category."),
    OpenApiParameter("film", OpenApiTypes.INT, description="A film id (rentals)."),
    OpenApiParameter("customer", OpenApiTypes.INT, description="A customer id."),
    OpenApiParameter("rows", OpenApiTypes.INT, description="Rows at most (lists)."),
    OpenApiParameter("as_of_run", OpenApiTypes.INT, description="Read as of this pipeline run."),
    OpenApiParameter("refresh", OpenApiTypes.BOOL, description="Recompute, not cached."),
]
SORT_PARAMETER = OpenApiParameter(
    "sort", OpenApiTypes.STR, description="CSV only: a column, - first to descend."
)
FORMAT_PARAMETER = OpenApiParameter(
    "format",
    OpenApiTypes.STR,
    enum=["json", "csv"],
    description="csv: the CSV export (as Accept: text/csv, and .../csv/, do).",
)
LAKE_UNAVAILABLE = OpenApiResponse(
    ProblemSerializer, description="The lake has no data yet, or the query failed."
)


class ReportListApi(APIView):
    permission_classes = [permission_required(REPORT_PERMISSION)]

    @extend_schema(
        tags=["reports"],
        summary="The reports, with their parameters and charts",
        responses=ReportSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        return Response(ReportSerializer(list(REPORTS.values()), many=True).data)


class CSVRenderer(BaseRenderer):
    """Lets ``?format=csv`` and ``Accept: text/csv`` choose the page's CSV export
    (the view answers with the file itself; this renders nothing)."""

    media_type = "text/csv"
    format = "csv"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        raise NotImplementedError("report CSVs are written by reports.export")


class ReportDetailApi(APIView):
    permission_classes = [permission_required(REPORT_PERMISSION)]
    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, CSVRenderer]

    def finalize_response(self, request: Request, response, *args, **kwargs):
        # When a CSV was asked for, what is not the file (an error, OPTIONS) is JSON;
        # so is an error of the negotiation itself (no renderer chosen yet).
        renderer = getattr(request, "accepted_renderer", None)
        if isinstance(response, Response) and (
            renderer is None or isinstance(renderer, CSVRenderer)
        ):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
            if response.status_code >= 400:
                response.content_type = PROBLEM_JSON
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        tags=["reports"],
        summary="One report's rows, at the published snapshot or an earlier run's",
        parameters=[*REPORT_PARAMETERS, SORT_PARAMETER, FORMAT_PARAMETER],
        responses={
            (200, "application/json"): ReportResultSerializer,
            (200, "text/csv"): OpenApiTypes.STR,
            409: LAKE_UNAVAILABLE,
        },
    )
    def get(self, request: Request, name: str) -> Response:
        report = self._report(name)
        query = request.query_params
        if isinstance(request.accepted_renderer, CSVRenderer):
            return self._csv(report, query)
        params = report_params_clean(report, query.dict())  # ValidationError: a 400
        as_of_run = report_run_get(query["as_of_run"]) if query.get("as_of_run") else None
        try:
            result = report_run(
                report,
                params,
                as_of_run=as_of_run,
                refresh=query.get("refresh", "").lower() in TRUE,
            )
        except QueryError as error:
            raise LakeUnavailable(str(error)) from None
        data = {
            "report": report.name,
            "params": {key: _json_value(value) for key, value in result.params.items()},
            "columns": result.columns,
            "rows": [{k: _json_value(v) for k, v in row.items()} for row in result.rows],
            "run_id": result.run_id,
            "as_of": result.as_of,
            "cached_at": result.cached_at,
            "from_cache": result.from_cache,
            "meta": result.meta,
        }
        return Response(ReportResultSerializer(data).data)

    def _report(self, name: str) -> Report:
        try:
            return report_get(name)
        except ReportNotFound as error:
            raise NotFound(str(error)) from None

    def _csv(self, report: Report, query) -> HttpResponse:
        try:
            return report_export(report, query)
        except ReportFiltersInvalid as invalid:
            raise ValidationError(invalid.errors) from None
        except QueryError as error:
            raise LakeUnavailable(str(error)) from None


class ReportCsvApi(ReportDetailApi):
    """The CSV alone, at an address of its own: one media type per operation is
    what generated clients handle (the JSON operation also answers ?format=csv)."""

    renderer_classes = [CSVRenderer, JSONRenderer]

    @extend_schema(
        tags=["reports"],
        summary="One report's rows as CSV: the file the report page exports",
        parameters=[*REPORT_PARAMETERS[:-1], SORT_PARAMETER],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="A header row, then the rows."
            ),
            409: LAKE_UNAVAILABLE,
        },
    )
    def get(self, request: Request, name: str) -> HttpResponse:
        return self._csv(self._report(name), request.query_params)


urlpatterns = [
    path("", ReportListApi.as_view(), name="api-report-list"),
    path("<str:name>/", ReportDetailApi.as_view(), name="api-report-detail"),
    path("<str:name>/csv/", ReportCsvApi.as_view(), name="api-report-csv"),
]
