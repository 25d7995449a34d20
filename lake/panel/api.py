"""The lake's REST API under /api/lake/: pipeline runs, to list, start, cancel, retry, resume.

Reading needs ``lake.view_pipelinerun``, starting a run ``lake.add_pipelinerun``
(``sakila_site.api.ModelPermissions``), cancelling ``lake.change_pipelinerun``,
retrying and resuming both. A run is started by a worker once it is queued;
poll its detail to follow it.
"""

from collections.abc import Callable

from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from lake import selectors, services
from lake.models import PipelineCheck, PipelineRun, PipelineStep
from lake.panel.forms import PipelineRunFilter
from sakila_site.api import LOCATION_HEADER, created, permission_required
from sakila_site.idempotency import IDEMPOTENCY_KEY_PARAMETER, KEY_REUSED_RESPONSE, idempotent
from sakila_site.problems import Conflict, conflict_problem

# --- Serializers -------------------------------------------------------------------------


class NamedChoiceField(serializers.ChoiceField):
    """A choice field documented as one named enum, wherever it appears.

    Runs and steps both have a ``status`` with different choices; drf-spectacular
    would otherwise name one of them after a hash (and warn).
    """

    def __init__(self, *, enum_name: str, **kwargs) -> None:
        self.enum_name = enum_name
        super().__init__(**kwargs)


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField

    def map_serializer_field(self, auto_schema, direction) -> dict:
        field = self.target
        component = ResolvedComponent(
            name=field.enum_name,
            type=ResolvedComponent.SCHEMA,
            object=field.enum_name,
            schema={"type": "string", "enum": list(field.choices)},
        )
        auto_schema.registry.register_on_missing(component)
        return component.ref


class PipelineStepSerializer(serializers.ModelSerializer):
    status = NamedChoiceField(
        choices=PipelineStep.Status.choices, enum_name="PipelineStepStatusEnum", read_only=True
    )
    seconds = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = PipelineStep
        fields = [
            "name",
            "position",
            "status",
            "started_at",
            "finished_at",
            "seconds",
            "rows",
            "files_written",
            "log",
            "error",
        ]
        read_only_fields = fields


class PipelineCheckSerializer(serializers.ModelSerializer):
    status = NamedChoiceField(
        choices=PipelineCheck.Status.choices, enum_name="PipelineCheckStatusEnum", read_only=True
    )
    rows = serializers.ListField(
        child=serializers.DictField(),
        read_only=True,
        help_text="Up to 20 of the rows that break the check.",
    )

    class Meta:
        model = PipelineCheck
        fields = [
            "table", "name", "kind", "severity", "status", "failing", "rows", "sql", "message",
            "seconds",
        ]  # fmt: skip
        read_only_fields = fields


class PipelineRunSerializer(serializers.ModelSerializer):
    status = NamedChoiceField(
        choices=PipelineRun.Status.choices, enum_name="PipelineRunStatusEnum", read_only=True
    )
    kind = NamedChoiceField(
        choices=PipelineRun.Kind.choices, enum_name="PipelineRunKindEnum", read_only=True
    )
    requested_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    seconds = serializers.FloatField(read_only=True, allow_null=True)
    rows_read = serializers.IntegerField(
        read_only=True, help_text="Rows the extract read from the rental database."
    )
    rows_written = serializers.IntegerField(
        read_only=True, help_text="Rows the staging and mart steps wrote."
    )
    url = serializers.HyperlinkedIdentityField(view_name="api-lake-run-detail")

    class Meta:
        model = PipelineRun
        fields = [
            "id",
            "url",
            "status",
            "kind",
            "trigger",
            "engine",
            "full",
            "requested_by",
            "os_user",
            "created_at",
            "started_at",
            "finished_at",
            "seconds",
            "rows_read",
            "rows_written",
            "error",
            "retry_of",
            "resumed",
        ]
        read_only_fields = fields


class PipelineRunDetailSerializer(PipelineRunSerializer):
    cancel_requested_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    steps = PipelineStepSerializer(many=True, read_only=True)
    watermarks_from = serializers.DictField(
        child=serializers.CharField(), read_only=True, help_text="Source table: read from."
    )
    watermarks_to = serializers.DictField(
        child=serializers.CharField(), read_only=True, help_text="Source table: read up to."
    )
    snapshots = serializers.DictField(
        child=serializers.IntegerField(),
        read_only=True,
        help_text=(
            "Lake table: the Iceberg snapshot id this run published (a run whose checks "
            "failed: what it wrote, unpublished)."
        ),
    )
    checks = PipelineCheckSerializer(
        many=True, read_only=True, help_text="The data checks run before publishing."
    )
    worker_alive = serializers.SerializerMethodField(
        help_text=(
            "Whether a worker has reported in within LAKE_WORKER_ALIVE_SECONDS. While none "
            "has, a queued run waits for one (and fails if none takes it in time)."
        )
    )

    class Meta(PipelineRunSerializer.Meta):
        fields = [
            *PipelineRunSerializer.Meta.fields,
            "cancel_requested_at",
            "cancel_requested_by",
            "glue_run_id",
            "watermarks_from",
            "watermarks_to",
            "snapshots",
            "steps",
            "checks",
            "worker_alive",
        ]
        read_only_fields = fields

    def get_worker_alive(self, run: PipelineRun) -> bool:
        return selectors.worker_status().alive


class PipelineRunCreateSerializer(serializers.Serializer):
    full = serializers.BooleanField(
        required=False,  # not default=False: see rentals.api.serializers
        help_text="Rebuild everything from the rental database (the first run always does). "
        "Default false.",
    )


class PublishAnywaySerializer(serializers.Serializer):
    reason = serializers.CharField(
        max_length=1000, help_text="Why publish it although its checks failed (audited)."
    )


class ActiveRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = NamedChoiceField(choices=PipelineRun.Status.choices, enum_name="PipelineRunStatusEnum")
    url = serializers.URLField()


# --- Views -------------------------------------------------------------------------------

CONFLICT = OpenApiResponse(
    conflict_problem(
        active_run=ActiveRunSerializer(required=False, help_text="The run that is active.")
    ),
    description="The run's state does not allow it, or another run is active (``active_run``).",
)
NEW_RUN_PARAMETERS = [IDEMPOTENCY_KEY_PARAMETER, LOCATION_HEADER]
NEW_RUN_RESPONSES = {201: PipelineRunDetailSerializer, 409: CONFLICT, 422: KEY_REUSED_RESPONSE}
# Retry and resume make a new run from one: they need both permissions.
NEW_RUN_FROM_RUN = [permission_required("lake.add_pipelinerun", "lake.change_pipelinerun")]


RUN_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The run's id.")


@extend_schema_view(
    list=extend_schema(summary="Pipeline runs, newest first"),
    retrieve=extend_schema(summary="A pipeline run, with its steps", parameters=[RUN_ID]),
    cancel=extend_schema(parameters=[RUN_ID]),
    publish=extend_schema(parameters=[RUN_ID]),
    retry=extend_schema(parameters=[RUN_ID]),
    resume=extend_schema(parameters=[RUN_ID]),
)
class PipelineRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    filter_backends = [DjangoFilterBackend]
    filterset_class = PipelineRunFilter
    lookup_value_regex = r"[0-9]{1,10}"

    def get_queryset(self):
        if self.action == "list":
            return selectors.pipeline_run_list()
        return selectors.pipeline_run_detail_list().prefetch_related("steps", "checks")

    def get_serializer_class(self):
        if self.action == "list":
            return PipelineRunSerializer
        return PipelineRunDetailSerializer

    def _run_response(self, run: PipelineRun, code: int = status.HTTP_200_OK) -> Response:
        runs = selectors.pipeline_run_detail_list().prefetch_related("steps", "checks")
        stored = runs.get(pk=run.pk)
        serializer = PipelineRunDetailSerializer(stored, context=self.get_serializer_context())
        if code == status.HTTP_201_CREATED:
            return created(self.request, serializer.data, "api-lake-run-detail")
        return Response(serializer.data, status=code)

    def _conflict(self, error: Exception, run: PipelineRun | None = None) -> Conflict:
        if run is None:
            return Conflict(str(error))
        url = reverse("api-lake-run-detail", args=[run.pk])
        active = {"id": run.pk, "status": run.status, "url": self.request.build_absolute_uri(url)}
        return Conflict(str(error), active_run=active)

    @extend_schema(
        summary="Start a run",
        description=(
            "Queues an incremental run (or a full one) for a worker. Only one run is active "
            "at a time: while one is, the answer is 409 with the active run."
        ),
        request=PipelineRunCreateSerializer,
        parameters=NEW_RUN_PARAMETERS,
        responses=NEW_RUN_RESPONSES,
    )
    @idempotent
    def create(self, request: Request) -> Response:
        body = PipelineRunCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            run = services.pipeline_run_request(
                full=body.validated_data.get("full", False),
                trigger=PipelineRun.Trigger.API,
                user=request.user,
            )
        except services.AlreadyRunning as error:
            raise self._conflict(error, error.run) from None
        return self._run_response(run, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Cancel a run",
        description=(
            "A queued run is cancelled at once; a running one stops at its next step boundary "
            "(its status turns to cancelled then) and publishes nothing."
        ),
        request=None,
        responses={200: PipelineRunDetailSerializer, 409: CONFLICT},
    )
    @action(
        detail=True,
        methods=["post"],
        permission_classes=[permission_required("lake.change_pipelinerun")],
    )
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        run = self.get_object()
        try:
            run = services.pipeline_run_cancel(run=run, user=request.user)
        except services.RunStateError as error:
            raise self._conflict(error) from None
        return self._run_response(run)

    @extend_schema(
        summary="Publish a run whose checks failed",
        description=(
            "Publishes what the run wrote, as it is, for the reason given (recorded in its "
            "audit); its checks stay recorded as failed. 409 unless the run's status is "
            "checks_failed and no run has started since."
        ),
        request=PublishAnywaySerializer,
        responses={200: PipelineRunDetailSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], permission_classes=NEW_RUN_FROM_RUN)
    def publish(self, request: Request, pk: str | None = None) -> Response:
        body = PublishAnywaySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reason = body.validated_data["reason"]
        return self._service_response(
            lambda: services.pipeline_run_publish_anyway(
                run=self.get_object(), user=request.user, reason=reason
            )
        )

    @extend_schema(
        summary="Retry a failed, cancelled or checks-failed run",
        description="Queues a new run like it (``retry_of`` names the run it retries).",
        request=None,
        parameters=NEW_RUN_PARAMETERS,
        responses=NEW_RUN_RESPONSES,
    )
    @action(detail=True, methods=["post"], permission_classes=NEW_RUN_FROM_RUN)
    @idempotent
    def retry(self, request: Request, pk: str | None = None) -> Response:
        return self._new_run_response(request, services.pipeline_run_retry)

    @extend_schema(
        summary="Resume a failed Glue run from the step that failed",
        description=(
            "Resumes the run's Glue workflow run from its failed jobs or crawler, as a new run "
            "(``retry_of`` names the run it resumes) that reads from the same watermarks; what "
            "had succeeded is not run again. 409 if the run cannot be resumed (not a Glue run, "
            "still active on Glue, nothing failed, or another run has published since: retry "
            "it instead) or while a run is active. If Glue refuses the resume, the new run is "
            "failed with Glue's message."
        ),
        request=None,
        parameters=NEW_RUN_PARAMETERS,
        responses=NEW_RUN_RESPONSES,
    )
    @action(detail=True, methods=["post"], permission_classes=NEW_RUN_FROM_RUN)
    @idempotent
    def resume(self, request: Request, pk: str | None = None) -> Response:
        return self._new_run_response(request, services.pipeline_run_resume)

    def _new_run_response(self, request: Request, service: Callable[..., PipelineRun]) -> Response:
        """201 with the run ``service`` (retry, resume) made from this one, or 409 and why not."""
        return self._service_response(
            lambda: service(
                run=self.get_object(), user=request.user, trigger=PipelineRun.Trigger.API
            ),
            status.HTTP_201_CREATED,
        )

    def _service_response(
        self, call: Callable[[], PipelineRun], code: int = status.HTTP_200_OK
    ) -> Response:
        """The run ``call`` (a service acting on this run) returns, or 409 and why not."""
        try:
            run = call()
        except services.RunStateError as error:
            raise self._conflict(error) from None
        except services.AlreadyRunning as error:
            raise self._conflict(error, error.run) from None
        return self._run_response(run, code)


router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("runs", PipelineRunViewSet, basename="api-lake-run")

urlpatterns = router.urls
