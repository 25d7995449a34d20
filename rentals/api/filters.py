"""Query parameters of the API's lists (django-filter).

A bad value is a 400 naming the parameter: ids are ModelChoiceFilters (an
unknown id is "Select a valid choice"), booleans and statuses take only
their listed values, times are naive local times (``fields.local_datetime``).
"""

from django import forms
from django.db.models import Model, OuterRef, QuerySet, Subquery
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from rentals import selectors
from rentals.api.fields import LocalDateTimeFormField
from rentals.models import Category, Customer, Film, Inventory, Payment, Rental, Store
from sakila_site.converters import MAX_ID


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanFilter(filters.TypedChoiceFilter):
    """``true`` or ``false``; django-filter's BooleanFilter ignores any other value."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("choices", [("true", "true"), ("false", "false")])
        kwargs.setdefault("coerce", lambda value: value == "true")
        super().__init__(**kwargs)


class LocalDateTimeFilter(filters.DateTimeFilter):
    field_class = LocalDateTimeFormField


def id_filter(model: type[Model], *, label: str, **kwargs) -> filters.ModelChoiceFilter:
    """A row of ``model`` by id. Its form in the browsable API is a number box:
    a <select> would list every row (1.6 million rentals). Typed for the schema
    with the ids' range (behind a filter method, drf-spectacular cannot see an id)."""
    schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID, "description": label}
    return extend_schema_field(schema)(
        filters.ModelChoiceFilter(
            queryset=model.objects.all(), label=label, widget=forms.NumberInput, **kwargs
        )
    )


def store_id_filter(*, label: str, **kwargs) -> filters.ModelChoiceFilter:
    return id_filter(Store, label=label, **kwargs)


class FilmFilter(filters.FilterSet):
    category = id_filter(Category, field_name="categories", label="Category id.")
    rating = filters.ChoiceFilter(choices=Film.Rating.choices)
    available_at_store = store_id_filter(
        method="filter_available_at_store",
        label="Store id: only films with a copy on the shelf there now.",
    )

    class Meta:
        model = Film
        fields = ["category", "rating", "available_at_store"]

    def filter_available_at_store(self, queryset: QuerySet, name: str, value: Store) -> QuerySet:
        return queryset & selectors.film_available_list(store=value)


class CustomerFilter(filters.FilterSet):
    store = store_id_filter(label="Home store id.")
    active = StrictBooleanFilter()
    email = filters.CharFilter(lookup_expr="iexact", label="Email address (any case).")

    class Meta:
        model = Customer
        fields = ["store", "active", "email"]


class InventoryFilter(filters.FilterSet):
    film = id_filter(Film, label="Film id.")
    store = store_id_filter(label="Store id.")
    available = StrictBooleanFilter(
        method="filter_available", label="true: on the shelf now; false: rented out."
    )

    class Meta:
        model = Inventory
        fields = ["film", "store", "available"]

    def filter_available(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.free() if value else queryset.out()


class RentalFilter(filters.FilterSet):
    customer = id_filter(Customer, label="Customer id.")
    store = store_id_filter(method="filter_store", label="Store id of the rented copy.")
    status = filters.ChoiceFilter(
        choices=[("open", "open"), ("returned", "returned")],
        method="filter_status",
        label="open: not returned yet; returned.",
    )
    rental_date_from = LocalDateTimeFilter(
        field_name="rental_date", lookup_expr="gte", label="Rented at or after (local time)."
    )
    rental_date_to = LocalDateTimeFilter(
        field_name="rental_date", lookup_expr="lte", label="Rented at or before (local time)."
    )

    class Meta:
        model = Rental
        fields = ["customer", "store", "status", "rental_date_from", "rental_date_to"]

    def filter_store(self, queryset: QuerySet, name: str, value: Store) -> QuerySet:
        # A correlated subquery rather than a join: given the join, MariaDB reads
        # the store's copies first and sorts all their rentals (4.6 s for a page
        # at 1.6 million rentals); this way it walks the rental_date index and
        # stops after a page (0.01 s).
        copy_store = Inventory.objects.filter(pk=OuterRef("inventory_id")).values("store_id")
        return queryset.alias(copy_store=Subquery(copy_store[:1])).filter(copy_store=value.pk)

    def filter_status(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.open() if value == "open" else queryset.filter(return_date__isnull=False)


class PaymentFilter(filters.FilterSet):
    customer = id_filter(Customer, label="Customer id.")
    rental = id_filter(Rental, label="Rental id.")
    payment_date_from = LocalDateTimeFilter(
        field_name="payment_date", lookup_expr="gte", label="Paid at or after (local time)."
    )
    payment_date_to = LocalDateTimeFilter(
        field_name="payment_date", lookup_expr="lte", label="Paid at or before (local time)."
    )

    class Meta:
        model = Payment
        fields = ["customer", "rental", "payment_date_from", "payment_date_to"]
