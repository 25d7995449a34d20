"""The payment admin: its add form (``services.payment_create``), its list,
and the payments inline on a rental's page."""

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminSplitDateTime, ForeignKeyRawIdWidget
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html

from rentals import services
from rentals.admin.service_forms import ServiceAddAdmin, ServiceAddForm
from rentals.admin.toolkit import (
    AutocompleteSelect,
    KeysFirstPaginator,
    admin_link,
    customers_matching,
    money,
    parse_id,
)
from rentals.models import Customer, Payment, Rental


class PaymentAddForm(ServiceAddForm):
    customer = forms.ModelChoiceField(
        Customer.objects.all(),
        widget=AutocompleteSelect(Payment._meta.get_field("customer"), admin.site),
        help_text="Search by name, email or customer id.",
    )
    amount = forms.DecimalField(help_text="In dollars, e.g. 4.99.")
    rental = forms.ModelChoiceField(
        Rental.objects.all(),
        required=False,
        widget=ForeignKeyRawIdWidget(Payment._meta.get_field("rental").remote_field, admin.site),
        help_text="Optional: the rental id this pays for (a rental of this customer).",
    )
    payment_date = forms.SplitDateTimeField(
        required=False,
        widget=AdminSplitDateTime,
        help_text="Leave empty for now. Not in the future.",
    )
    confirm_overpayment = forms.BooleanField(
        required=False,
        label="Confirm more than owed",
        help_text="A payment larger than the customer's balance is refused unless confirmed; "
        "the difference stays as credit.",
    )

    class Meta:
        model = Payment
        fields = ()  # as RentalAddForm
        exclude = ("customer", "amount", "rental", "payment_date")

    def save_through_service(self, cleaned_data: dict) -> Payment:
        return services.payment_create(
            customer=cleaned_data["customer"],
            staff=self.staff,
            amount=cleaned_data["amount"],
            rental=cleaned_data.get("rental"),
            payment_date=cleaned_data.get("payment_date"),
            confirm_overpayment=cleaned_data.get("confirm_overpayment", False),
        )


class PaymentInline(admin.TabularInline):
    model = Payment
    fields = ("payment_date", "amount", "staff")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("staff")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(ServiceAddAdmin):
    add_form = PaymentAddForm
    change_fields = (
        "payment_id",
        "payment_date",
        "customer",
        "amount",
        "rental",
        "staff",
        "last_update",
    )
    list_display = ("payment_id", "payment_date", "customer", "amount", "rental_link", "staff")
    list_select_related = ("customer", "staff")
    # payment_date has no index: newest first by primary key, which does.
    ordering = ("-payment_id",)
    sortable_by = ("payment_id",)
    paginator = KeysFirstPaginator
    list_filter = ("staff",)
    # As for rentals: get_search_results searches.
    search_fields = ("payment_id", "customer__email", "customer__name")
    search_help_text = (
        "A number finds that payment id, or the payments of that customer id or rental id; "
        "text finds customers by email or name."
    )
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        number = parse_id(term)
        if number is not None:
            return queryset.filter(
                Q(pk=number) | Q(customer_id=number) | Q(rental_id=number)
            ), False
        return queryset.filter(customer__in=customers_matching(term)), False

    @admin.display(description="rental")
    def rental_link(self, payment: Payment) -> str:
        if payment.rental_id is None:
            return "-"
        url = reverse("admin:rentals_rental_change", args=[payment.rental_id])
        return format_html('<a href="{}">{}</a>', url, payment.rental_id)

    def stored_message(self, payment: Payment, cleaned_data: dict) -> str:
        return format_html(
            "Took {} from {}: payment {} on {}{}.",
            money(payment.amount),
            payment.customer,
            admin_link(payment, payment.pk),
            f"{payment.payment_date:%Y-%m-%d %H:%M:%S}",
            f", for rental {payment.rental_id}" if payment.rental_id else "",
        )
