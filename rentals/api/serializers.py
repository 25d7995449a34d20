"""What the API shows of each row, and the bodies it accepts.

Serializers hold no rules: input serializers check types and that referenced
rows exist, then views hand the values to ``rentals.services``. Each resource
shows its own id as ``id`` and other rows by their ids (``customer``, ``film``).
"""

from decimal import Decimal

from django.db.models import Manager
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from rentals import selectors
from rentals.api.fields import IdRelatedField, LocalDateTimeField
from rentals.models import Category, Customer, Film, Inventory, Payment, Rental, Store


class StoreAvailabilitySerializer(serializers.Serializer):
    store = serializers.IntegerField(source="store_id")
    copies = serializers.IntegerField(help_text="Copies of the film at the store.")
    free = serializers.IntegerField(help_text="Copies on the shelf now.")


class CategorySerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="category_id")

    class Meta:
        model = Category
        fields = ["id", "name"]


class FilmListSerializer(serializers.ListSerializer):
    """Reads the availability of a whole page of films in one query."""

    def to_representation(self, data) -> list:
        films = list(data.all() if isinstance(data, Manager) else data)
        self.context["availability"] = selectors.film_availability_map(
            film_ids=[film.pk for film in films]
        )
        return super().to_representation(films)


class FilmSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="film_id")
    language = serializers.StringRelatedField()
    special_features = serializers.ListField(child=serializers.CharField(), allow_null=True)
    categories = CategorySerializer(many=True)
    availability = serializers.SerializerMethodField(
        help_text="Copies and free copies at each store that stocks the film."
    )

    class Meta:
        model = Film
        fields = [
            "id",
            "title",
            "description",
            "release_year",
            "language",
            "rating",
            "length",
            "rental_duration",
            "rental_rate",
            "replacement_cost",
            "special_features",
            "categories",
            "availability",
        ]
        read_only_fields = fields
        list_serializer_class = FilmListSerializer

    @extend_schema_field(StoreAvailabilitySerializer(many=True))
    def get_availability(self, film: Film) -> list:
        availability = self.context.get("availability")
        if availability is None or film.pk not in availability:
            availability = selectors.film_availability_map(film_ids=[film.pk])
        return StoreAvailabilitySerializer(availability[film.pk], many=True).data


class CustomerSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="customer_id")
    address = serializers.CharField(source="address.address")
    district = serializers.CharField(source="address.district")
    city = serializers.CharField(source="address.city.city")
    country = serializers.CharField(source="address.city.country.country")
    phone = serializers.CharField(source="address.phone")

    class Meta:
        model = Customer
        fields = [
            "id",
            "store",
            "first_name",
            "last_name",
            "email",
            "active",
            "create_date",
            "address",
            "district",
            "city",
            "country",
            "phone",
        ]
        read_only_fields = fields


class OverdueRentalSerializer(serializers.Serializer):
    rental = serializers.IntegerField(source="rental_id")
    film = serializers.IntegerField(source="inventory.film_id")
    film_title = serializers.CharField(source="inventory.film.title")
    rental_date = serializers.DateTimeField()
    due_date = serializers.DateTimeField()
    days_late = serializers.IntegerField(help_text="Calendar days past the due date, now.")
    late_fee = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        help_text="Accrued so far: $1.00 a day late, capped at the film's replacement cost.",
    )


class CustomerDetailSerializer(CustomerSerializer):
    balance = serializers.SerializerMethodField(
        help_text="What the customer owes now (negative: in credit): rental rates and late "
        "fees (accrued so far on rentals still out) less payments received."
    )
    open_rentals = serializers.SerializerMethodField(help_text="Rentals not returned yet.")
    overdue = serializers.SerializerMethodField(
        help_text="Rentals out past their due date, with the late fee accrued so far."
    )

    class Meta(CustomerSerializer.Meta):
        fields = [*CustomerSerializer.Meta.fields, "balance", "open_rentals", "overdue"]
        read_only_fields = fields

    def _account(self, customer: Customer) -> selectors.CustomerAccount:
        # One reading of the account (one "now") for balance and overdue.
        cache = self.context.setdefault("accounts", {})
        if customer.pk not in cache:
            cache[customer.pk] = selectors.customer_account_get(customer=customer)
        return cache[customer.pk]

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=2))
    def get_balance(self, customer: Customer) -> str:
        return str(self._account(customer).balance)

    @extend_schema_field(OverdueRentalSerializer(many=True))
    def get_overdue(self, customer: Customer) -> list:
        return OverdueRentalSerializer(self._account(customer).overdue, many=True).data

    def get_open_rentals(self, customer: Customer) -> int:
        return selectors.customer_open_rentals(customer=customer).count()


class StoreSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="store_id")
    address = serializers.CharField(source="address.address")
    district = serializers.CharField(source="address.district")
    postal_code = serializers.CharField(source="address.postal_code", allow_null=True)
    city = serializers.CharField(source="address.city.city")
    country = serializers.CharField(source="address.city.country.country")
    phone = serializers.CharField(source="address.phone")
    manager = serializers.CharField(source="manager_staff", help_text="The manager's name.")

    class Meta:
        model = Store
        fields = [
            "id",
            "address",
            "district",
            "postal_code",
            "city",
            "country",
            "phone",
            "manager_staff",
            "manager",
        ]
        read_only_fields = fields


class InventorySerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="inventory_id")
    film_title = serializers.CharField(source="film.title")
    available = serializers.SerializerMethodField(help_text="On the shelf now (not rented out).")

    class Meta:
        model = Inventory
        fields = ["id", "film", "film_title", "store", "available"]
        read_only_fields = fields

    def get_available(self, copy: Inventory) -> bool:
        return not copy.rented_out  # annotated by selectors.inventory_list()


class PaymentSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="payment_id")

    class Meta:
        model = Payment
        fields = ["id", "customer", "staff", "rental", "amount", "payment_date"]
        read_only_fields = fields


class RentalPaymentSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="payment_id")

    class Meta:
        model = Payment
        fields = ["id", "amount", "payment_date"]
        read_only_fields = fields


RENTAL_STATUSES = ["open", "returned"]


class RentalSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="rental_id")
    status = serializers.SerializerMethodField()
    customer_name = serializers.CharField(source="customer")
    film = serializers.IntegerField(source="inventory.film_id")
    film_title = serializers.CharField(source="inventory.film.title")
    store = serializers.IntegerField(source="inventory.store_id", help_text="The copy's store.")
    due_date = serializers.DateTimeField()
    payments = RentalPaymentSerializer(many=True)

    class Meta:
        model = Rental
        fields = [
            "id",
            "status",
            "rental_date",
            "due_date",
            "return_date",
            "customer",
            "customer_name",
            "inventory",
            "film",
            "film_title",
            "store",
            "staff",
            "payments",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=RENTAL_STATUSES))
    def get_status(self, rental: Rental) -> str:
        return "open" if rental.return_date is None else "returned"


class RentalCreatedSerializer(RentalSerializer):
    amount_charged = serializers.SerializerMethodField(
        help_text="What renting charged (the film's rental rate), as payments."
    )

    class Meta(RentalSerializer.Meta):
        fields = [*RentalSerializer.Meta.fields, "amount_charged"]
        read_only_fields = fields

    @extend_schema_field(serializers.DecimalField(max_digits=12, decimal_places=2))
    def get_amount_charged(self, rental: Rental) -> str:
        return str(sum((payment.amount for payment in rental.payments.all()), Decimal("0.00")))


class RentalCreateSerializer(serializers.Serializer):
    customer = IdRelatedField(queryset=Customer.objects.all())
    film = IdRelatedField(queryset=Film.objects.all())
    rental_date = LocalDateTimeField(
        required=False, help_text="Local time; now if left out. Not in the future."
    )


class RentalReturnSerializer(serializers.Serializer):
    return_date = LocalDateTimeField(
        required=False, help_text="Local time; now if left out. Not in the future."
    )
    payment_amount = serializers.DecimalField(
        max_digits=8,
        decimal_places=None,
        required=False,
        help_text="Money taken with the return (all of the late fee or part of it). "
        "Left out: no payment, the fee stays owed on the customer's account.",
    )
    # Optional rather than default=False: a documented default makes generated
    # TypeScript types require the field (openapi-typescript's defaultNonNullable).
    confirm_overpayment = serializers.BooleanField(
        required=False,
        help_text="Accept a payment larger than the customer owes (credit). Default false.",
    )


class RentalReturnedSerializer(serializers.Serializer):
    rental = RentalSerializer()
    days_kept = serializers.IntegerField()
    days_late = serializers.IntegerField(help_text="Calendar days past the due date.")
    late_fee = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        help_text="Final late fee, owed by the customer ($1.00 a day late, capped at the "
        "film's replacement cost), less anything paid with the return.",
    )
    payments = PaymentSerializer(
        many=True, help_text="Payments taken with the return: empty unless payment_amount."
    )
    send_back_to = serializers.IntegerField(
        allow_null=True,
        help_text="Any store takes any store's copy back. When the copy belongs to another "
        "store than the returning staff member's, that store's id: send the copy back there. "
        "Null when the copy is home.",
    )


class PaymentCreateSerializer(serializers.Serializer):
    customer = IdRelatedField(queryset=Customer.objects.all())
    amount = serializers.DecimalField(max_digits=8, decimal_places=None)
    rental = IdRelatedField(queryset=Rental.objects.all(), required=False, allow_null=True)
    payment_date = LocalDateTimeField(
        required=False, help_text="Local time; now if left out. Not in the future."
    )
    confirm_overpayment = serializers.BooleanField(
        required=False,
        help_text="Accept an amount larger than the customer owes; the difference is credit. "
        "Default false.",
    )
