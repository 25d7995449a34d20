"""The REST API's endpoints: read the catalogue and the books, rent, return, pay.

Views hold no rules: they check the body, call one selector or service and
render what the database stored. Every endpoint needs a login or a token and
the model permission of its method (``sakila_site.api.ModelPermissions``);
rentals and payments are recorded as the staff row linked to the login.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from rentals import selectors, services
from rentals.api import filters, serializers
from rentals.api.fields import ID_REGEX
from rentals.models import Payment, Staff
from sakila_site.api import (
    LOCATION_HEADER,
    CursorByKeyPagination,
    OrderingFilter,
    PageByKeyPagination,
    SearchFilter,
    created,
    permission_required,
)
from sakila_site.idempotency import IDEMPOTENCY_KEY_PARAMETER, KEY_REUSED_RESPONSE, idempotent


def request_staff(request: Request) -> Staff:
    """The staff row the logged-in user works as; 403 without one."""
    staff = selectors.staff_for_user(request.user)
    if staff is None:
        raise PermissionDenied(services.STAFF_NOT_LINKED)
    return staff


class SakilaViewSet(viewsets.GenericViewSet):
    filter_backends = [DjangoFilterBackend, SearchFilter, OrderingFilter]
    pagination_class = PageByKeyPagination
    lookup_value_regex = ID_REGEX


@extend_schema_view(
    list=extend_schema(summary="Films, with free copies per store"),
    retrieve=extend_schema(summary="A film, with free copies per store"),
)
class FilmViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, SakilaViewSet):
    queryset = selectors.film_list()
    serializer_class = serializers.FilmSerializer
    filterset_class = filters.FilmFilter
    search_fields = ["title"]
    ordering_fields = ["title", "release_year", "length", "rental_rate", "film_id"]


@extend_schema_view(
    list=extend_schema(summary="Customers"),
    retrieve=extend_schema(summary="A customer, with balance and open rentals"),
)
class CustomerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, SakilaViewSet):
    queryset = selectors.customer_list()
    filterset_class = filters.CustomerFilter
    search_fields = ["first_name", "last_name", "email"]
    ordering_fields = ["last_name", "first_name", "create_date", "customer_id"]

    def get_serializer_class(self) -> type[serializers.CustomerSerializer]:
        if self.action == "retrieve":
            return serializers.CustomerDetailSerializer
        return serializers.CustomerSerializer


@extend_schema_view(list=extend_schema(summary="Stores"), retrieve=extend_schema(summary="A store"))
class StoreViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, SakilaViewSet):
    queryset = selectors.store_list()
    serializer_class = serializers.StoreSerializer
    filter_backends = [OrderingFilter]
    ordering_fields = ["store_id"]


@extend_schema_view(
    list=extend_schema(summary="Copies (inventory)"), retrieve=extend_schema(summary="A copy")
)
class InventoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, SakilaViewSet):
    queryset = selectors.inventory_list()
    serializer_class = serializers.InventorySerializer
    filterset_class = filters.InventoryFilter
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["inventory_id"]


@extend_schema_view(
    list=extend_schema(summary="Rentals, newest first"),
    retrieve=extend_schema(summary="A rental"),
)
class RentalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, SakilaViewSet):
    # rental's unique key orders it totally and its index serves the sort, so a
    # page of 1.6 million rentals reads a page of index entries; "-pk" as the
    # tie-break would sort the whole table on MariaDB (1 s a page).
    queryset = (
        selectors.rental_list()
        .order_by("-rental_date", "-inventory_id", "-customer_id")
        .prefetch_related("payments")
    )
    filterset_class = filters.RentalFilter
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    pagination_class = CursorByKeyPagination  # new rentals arrive at the top
    ordering = ["-rental_date", "-inventory_id", "-customer_id"]
    ordering_fields = ["rental_date", "rental_id"]
    ordering_tiebreak = ("inventory_id", "customer_id")

    def get_serializer_class(self) -> type[BaseSerializer]:
        # A POST's body has its own serializer (also for the browsable API's form).
        if self.request.method == "POST":
            if self.action == "return_rental":
                return serializers.RentalReturnSerializer
            return serializers.RentalCreateSerializer
        return serializers.RentalSerializer

    @extend_schema(
        summary="Rent a film",
        description=(
            "Rents a free copy of the film at the store of the logged-in staff member to "
            "the customer, and charges the film's rental rate. Answers with the rental as "
            "stored (a database trigger may have replaced the rental date)."
        ),
        request=serializers.RentalCreateSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER, LOCATION_HEADER],
        responses={201: serializers.RentalCreatedSerializer, 422: KEY_REUSED_RESPONSE},
    )
    @idempotent
    def create(self, request: Request) -> Response:
        staff = request_staff(request)
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        rental = services.rental_create(staff=staff, **body.validated_data)
        stored = self.get_queryset().get(pk=rental.pk)
        return created(
            request, serializers.RentalCreatedSerializer(stored).data, "api-rental-detail"
        )

    @extend_schema(
        summary="Return a rental",
        description=(
            "Takes the copy back. Its late fee ($1.00 a day past the due date, capped at the "
            "film's replacement cost) becomes final and owed: no payment is recorded unless "
            "`payment_amount` says money was taken with the return."
        ),
        request=serializers.RentalReturnSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER],
        responses={200: serializers.RentalReturnedSerializer, 422: KEY_REUSED_RESPONSE},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="return",
        permission_classes=[permission_required("rentals.change_rental")],
    )
    @idempotent
    def return_rental(self, request: Request, pk: str | None = None) -> Response:
        rental = self.get_object()
        staff = request_staff(request)
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            result = services.rental_return(rental=rental, staff=staff, **body.validated_data)
        except DjangoValidationError as error:
            # The service names the amount "amount"; this body calls it "payment_amount".
            if hasattr(error, "error_dict") and "amount" in error.error_dict:
                error.error_dict["payment_amount"] = error.error_dict.pop("amount")
            raise
        returned = {
            "rental": self.get_queryset().get(pk=rental.pk),
            "days_kept": result.days_kept,
            "days_late": result.days_late,
            "late_fee": result.late_fee,
            "payments": result.payments,
            "send_back_to": result.send_back_to.pk if result.send_back_to else None,
        }
        return Response(serializers.RentalReturnedSerializer(returned).data)


@extend_schema_view(
    list=extend_schema(summary="Payments, newest first"),
    retrieve=extend_schema(summary="A payment"),
)
class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, SakilaViewSet):
    # Newest first by id: payment_date has no index to sort 1.6 million rows on.
    queryset = Payment.objects.order_by("-pk")
    filterset_class = filters.PaymentFilter
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    pagination_class = CursorByKeyPagination
    ordering = ["-payment_id"]
    ordering_fields = ["payment_id"]

    def get_serializer_class(self) -> type[BaseSerializer]:
        if self.request.method == "POST":
            return serializers.PaymentCreateSerializer
        return serializers.PaymentSerializer

    @extend_schema(
        summary="Take a payment",
        description=(
            "Money received from the customer, for one of their rentals or on account. More "
            "than the customer owes is refused unless `confirm_overpayment` is true."
        ),
        request=serializers.PaymentCreateSerializer,
        parameters=[IDEMPOTENCY_KEY_PARAMETER, LOCATION_HEADER],
        responses={201: serializers.PaymentSerializer, 422: KEY_REUSED_RESPONSE},
    )
    @idempotent
    def create(self, request: Request) -> Response:
        staff = request_staff(request)
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        payment = services.payment_create(staff=staff, **body.validated_data)
        return created(request, serializers.PaymentSerializer(payment).data, "api-payment-detail")
