"""The Django admin for staff: every Sakila table, and rentals and payments
through the same services as the desk and the API.

Rentals and payments are never saved by the admin itself: their add forms call
``services.rental_create`` / ``services.payment_create`` with the logged-in
user's staff row, and existing rows are read-only. The rental, payment and
inventory lists are built for millions of rows: a fixed number of queries per
page, indexed ordering, and searches that look ids up by index.
"""

import json
from collections import defaultdict
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import widgets
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AdminSplitDateTime, ForeignKeyRawIdWidget
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import (
    Count,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    prefetch_related_objects,
)
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import formats
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join

from rentals import formatting, selectors, services
from rentals.fields import CommaSeparatedSetField
from rentals.forms import add_service_error
from rentals.models import (
    Actor,
    Address,
    Category,
    City,
    Country,
    Customer,
    Film,
    FilmActor,
    FilmCategory,
    FilmText,
    Inventory,
    Language,
    Payment,
    Rental,
    Staff,
    StaffProfile,
    Store,
)

RETURN_LIMIT = 500
RETURN_TOO_MANY = "Select at most {limit} rentals to return at once (you selected {count})."
RETURN_FAILED = "Nothing was returned: {error}"
RETURNED = (
    "Returned {count} rental(s); late fees now owed on the customers' accounts: {fees} "
    "(take them as payments)."
)
RETURN_SKIPPED = "Skipped {count} rental(s) already returned: {details}"


def request_staff(request: HttpRequest) -> Staff | None:
    """The logged-in user's staff row, looked up once per request."""
    if not hasattr(request, "_sakila_staff"):
        request._sakila_staff = selectors.staff_for_user(request.user)
    return request._sakila_staff


def money(amount: Decimal | None) -> str:
    # SQLite's SUM of decimals comes back with float noise (4.99000000000000).
    return formatting.money(Decimal(amount or 0))


def admin_link(obj, label: object = None) -> str:
    """A link to ``obj``'s admin page (no query: uses only its pk)."""
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, obj if label is None else label)


def customers_matching(term: str) -> QuerySet[Customer]:
    """Customers whose email starts with ``term``, or whose first or last name
    starts with each of its words: a subquery for searching big tables by customer."""
    if "@" in term:
        return Customer.objects.filter(email__istartswith=term).values("pk")
    matches = Q()
    for word in term.split():
        matches &= Q(first_name__istartswith=word) | Q(last_name__istartswith=word)
    return Customer.objects.filter(matches).values("pk")


def parse_id(term: str) -> int | None:
    """``term`` as an id if it is one (digits that fit an INT column)."""
    term = term.strip()
    if term.isdigit() and len(term) <= 10 and int(term) <= 2**31 - 1:
        return int(term)
    return None


# Dates in list columns: one line, sortable by eye ("2005-05-24 22:53").
SHORT_DATETIME = "%Y-%m-%d %H:%M"


class KeysFirstPaginator(Paginator):
    """Loads a page of a big table in two steps: the page's primary keys by an
    index scan of the table alone, then those rows with their joins.

    With OFFSET alone the database joins every row it skips: the last page of
    1.6 million rentals took 5 s on SQLite, and takes 0.13 s this way.
    """

    def _get_page(self, object_list, number, paginator):
        keys = list(object_list.values_list("pk", flat=True))
        return super()._get_page(self.object_list.filter(pk__in=keys), number, paginator)


class IdSearchMixin:
    """A search made of digits finds the row with that id, by its primary key;
    other text goes through ``search_fields``. (Django's ``=id`` search would
    compare the id as text, row by row.)"""

    def get_search_results(self, request, queryset, search_term):
        pk = parse_id(search_term)
        if pk is not None:
            return queryset.filter(pk=pk), False
        return super().get_search_results(request, queryset, search_term)


class AutocompleteSelect(widgets.AutocompleteSelect):
    """Django's, without its 500 when a posted value is not an id at all (only a
    hand-made request sends one): such a value is dropped when the form is shown
    again with its error."""

    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, [v for v in value if self._is_id(v)], attr)

    def _is_id(self, value) -> bool:
        try:
            self.field.target_field.to_python(value)
        except ValidationError:
            return False
        return True


class SafeAutocompleteMixin:
    """Uses the AutocompleteSelect above for ``autocomplete_fields``."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = AutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# The service forms -------------------------------------------------------------------------------


class ServiceAddForm(forms.ModelForm):
    """An add form whose ``clean()`` saves through a service.

    That way a refusal of the service lands on the form. ``clean()`` runs
    inside the transaction of the admin's add view, and the service's own
    ``transaction.atomic`` is a savepoint in it: a refusal writes nothing.
    The admin then logs the addition and shows the row the service read back;
    its ``save_model`` must not save again.
    """

    staff: Staff | None = None  # the logged-in user's, set by the ModelAdmin's get_form

    def clean(self):
        cleaned_data = super().clean()
        if self.staff is None:
            raise ValidationError(services.STAFF_NOT_LINKED, code="no_staff")
        if not self.errors:
            try:
                self.instance = self.save_through_service(cleaned_data)
            except ValidationError as error:
                add_service_error(self, error)
        return cleaned_data

    def save_through_service(self, cleaned_data: dict):
        raise NotImplementedError


class RentalAddForm(ServiceAddForm):
    customer = forms.ModelChoiceField(
        Customer.objects.all(),
        widget=AutocompleteSelect(Rental._meta.get_field("customer"), admin.site),
        help_text="Search by name, email or customer id.",
    )
    # Inventory.film points at Film, so the film admin's search feeds the list.
    film = forms.ModelChoiceField(
        Film.objects.all(),
        widget=AutocompleteSelect(Inventory._meta.get_field("film"), admin.site),
        help_text="A free copy at your store is picked for you.",
    )
    rental_date = forms.SplitDateTimeField(
        required=False,
        widget=AdminSplitDateTime,
        help_text="Leave empty for now. Not in the future.",
    )

    class Meta:
        model = Rental
        # The service fills the rental in: no model field is taken from the form, and
        # excluding the ones named like form fields keeps Django from validating them
        # on the instance, which is empty until the service succeeds.
        fields = ()
        exclude = ("customer", "rental_date")  # noqa: DJ006

    def save_through_service(self, cleaned_data: dict) -> Rental:
        return services.rental_create(
            customer=cleaned_data["customer"],
            film=cleaned_data["film"],
            staff=self.staff,
            rental_date=cleaned_data.get("rental_date"),
        )


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
        exclude = ("customer", "amount", "rental", "payment_date")  # noqa: DJ006

    def save_through_service(self, cleaned_data: dict) -> Payment:
        return services.payment_create(
            customer=cleaned_data["customer"],
            staff=self.staff,
            amount=cleaned_data["amount"],
            rental=cleaned_data.get("rental"),
            payment_date=cleaned_data.get("payment_date"),
            confirm_overpayment=cleaned_data.get("confirm_overpayment", False),
        )


class ServiceAddAdmin(admin.ModelAdmin):
    """Adds rows through a ServiceAddForm; existing rows can be viewed, not changed."""

    add_form: type[ServiceAddForm]
    change_fields: tuple[str, ...] = ()

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            return type(self.add_form.__name__, (self.add_form,), {"staff": request_staff(request)})
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is not None:
            return [(None, {"fields": self.change_fields})]
        staff = request_staff(request)
        if staff is None:
            description = services.STAFF_NOT_LINKED
        else:
            # The admin shows a description as HTML: escape the names.
            description = format_html("Recorded by {} at {}.", staff, staff.store)
        return [(None, {"fields": list(self.add_form.base_fields), "description": description})]

    def get_readonly_fields(self, request, obj=None):
        return self.change_fields if obj is not None else ()

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # What was stored is read-only: "save and continue editing" would lead nowhere.
        extra_context = {**(extra_context or {}), "show_save_and_continue": False}
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change) -> None:
        """Nothing to save: the add form's service saved ``obj``. Say what was stored."""
        self.message_user(request, self.stored_message(obj, form.cleaned_data), messages.SUCCESS)

    def stored_message(self, obj, cleaned_data: dict) -> str:
        raise NotImplementedError

    def response_add(self, request, obj, post_url_continue=None) -> HttpResponse:
        # Our own success message is already queued (see save_model); skip Django's.
        if IS_POPUP_VAR in request.POST:
            return super().response_add(request, obj, post_url_continue)
        opts = self.opts
        if "_addanother" in request.POST:
            return HttpResponseRedirect(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
        if self.has_view_permission(request, obj):
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        else:
            url = reverse("admin:index")
        return HttpResponseRedirect(url)


# Rentals and payments ----------------------------------------------------------------------------


class RentalStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [
            ("out", "Out (not returned)"),
            ("overdue", "Overdue (out past due)"),
            ("returned", "Returned"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "out":
            return queryset.filter(return_date__isnull=True)
        if self.value() == "overdue":
            return queryset.overdue()
        if self.value() == "returned":
            return queryset.filter(return_date__isnull=False)
        return queryset


class RentalChangeList(ChangeList):
    def get_ordering(self, request, queryset):
        """Each sortable column in an order one index serves, on MySQL too.

        Django appends the default order to a clicked column: "rental_id, then
        -rental_date..." or "rental_date, then -rental_date...". MySQL sorts such
        an order in full (0.7 and 1.1 s with 1.6M rentals); these take 0.2 s.
        """
        ordering = super().get_ordering(request, queryset)
        first = ordering[0] if ordering and isinstance(ordering[0], str) else ""
        sign, field = ("-", first[1:]) if first.startswith("-") else ("", first)
        if field in ("pk", "rental_id"):
            return [first]
        if field == "rental_date":
            return [f"{sign}rental_date", f"{sign}inventory_id", f"{sign}customer_id"]
        return ordering


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


@admin.register(Rental)
class RentalAdmin(ServiceAddAdmin):
    add_form = RentalAddForm
    change_fields = (
        "rental_id",
        "rental_date",
        "customer",
        "film",
        "inventory",
        "store",
        "staff",
        "return_date",
        "due_date",
        "charged",
        "last_update",
    )
    # Readable at 1366 px: dates as "2005-05-24 22:53" on one line, the copy and
    # its store in one column, the due date with what is late (admin-lists.css);
    # the clerk who rented it is on the rental's page.
    list_display = (
        "rental_id",
        "rented",
        "customer",
        "film",
        "copy_at",
        "due",
        "returned",
    )
    list_select_related = ("customer", "inventory__film", "inventory__store", "staff")
    # Newest first, in the order of the unique index (rental_date, inventory_id,
    # customer_id): a backward index scan that also serves the date filter, and a
    # total order, so Django adds no "-pk" that would force a sort. Only indexed columns sort.
    ordering = ("-rental_date", "-inventory_id", "-customer_id")
    sortable_by = ("rental_id", "rented")
    paginator = KeysFirstPaginator
    # No staff or store filter: with two of each, either keeps half of the table, and
    # SQLite then sorts that half for every page (0.7 s and 2 s with 1.6M rentals).
    list_filter = (RentalStatusFilter, ("rental_date", admin.DateFieldListFilter))
    # These show the search box and say what is searched; get_search_results searches.
    search_fields = ("rental_id", "customer__email", "customer__name", "film__title")
    search_help_text = (
        "A number finds that rental id or the rentals of that customer id; "
        "text finds customers by email or name, and films by title."
    )
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER  # counts per filter choice would scan the table
    actions = ["mark_returned"]

    class Media:
        css = {"all": ["css/admin-lists.css"]}

    inlines = [PaymentInline]

    def get_search_results(self, request, queryset, search_term):
        """Each kind of term uses an index: ids, or the customers or films it names."""
        term = search_term.strip()
        if not term:
            return queryset, False
        rental_or_customer_id = parse_id(term)
        if rental_or_customer_id is not None:
            return queryset.filter(
                Q(pk=rental_or_customer_id) | Q(customer_id=rental_or_customer_id)
            ), False
        films = Film.objects.filter(title__icontains=term).values("pk")
        copies = Inventory.objects.filter(film__in=films).values("pk")
        return queryset.filter(
            Q(customer__in=customers_matching(term)) | Q(inventory__in=copies)
        ), False

    def get_changelist(self, request, **kwargs):
        return RentalChangeList

    def get_inline_instances(self, request, obj=None):
        return super().get_inline_instances(request, obj) if obj is not None else []

    @admin.display(description="film")
    def film(self, rental: Rental) -> str:
        return rental.inventory.film.title

    @admin.display(description="copy")
    def copy(self, rental: Rental) -> int:
        return rental.inventory_id

    @admin.display(description="rented", ordering="rental_date")
    def rented(self, rental: Rental) -> str:
        return f"{rental.rental_date:{SHORT_DATETIME}}"

    @admin.display(description="copy")
    def copy_at(self, rental: Rental) -> str:
        return f"{rental.inventory_id} · store {rental.inventory.store_id}"

    @admin.display(description="due")
    def due(self, rental: Rental) -> str:
        due = f"{rental.due_date:{SHORT_DATETIME}}"
        if rental.return_date is None:
            late = services.days_late(
                rental_date=rental.rental_date,
                rental_duration=rental.inventory.film.rental_duration,
                until=services.now(),
            )
            if late:
                return format_html('{} <strong class="overdue">overdue {} d</strong>', due, late)
        return due

    @admin.display(description="returned", ordering="return_date")
    def returned(self, rental: Rental) -> str:
        if rental.return_date is None:
            return "out"
        return f"{rental.return_date:{SHORT_DATETIME}}"

    @admin.display(description="store")
    def store(self, rental: Rental) -> Store:
        return rental.inventory.store

    @admin.display(description="due")
    def due_date(self, rental: Rental) -> str:
        # Formatted like the model's datetimes (a read-only field would show str()).
        return formats.localize(rental.due_date)

    @admin.display(description="charged")
    def charged(self, rental: Rental) -> str:
        return money(rental.payments.aggregate(total=Sum("amount"))["total"])

    def stored_message(self, rental: Rental, cleaned_data: dict) -> str:
        rental = Rental.objects.select_related("inventory__film", "inventory__store").get(
            pk=rental.pk
        )
        asked = cleaned_data.get("rental_date")
        # A database with Sakila's triggers stores NOW() whatever was asked.
        note = (
            " The database stored its own time, not the rental date entered."
            if asked is not None and asked != rental.rental_date
            else ""
        )
        return format_html(
            "Rented {} (copy {} at {}) to {}: rental {} on {}, due {}, charged {}.{}",
            rental.inventory.film,
            rental.inventory_id,
            rental.inventory.store,
            rental.customer,
            admin_link(rental, rental.pk),
            f"{rental.rental_date:%Y-%m-%d %H:%M:%S}",
            f"{rental.due_date:%Y-%m-%d %H:%M}",
            self.charged(rental),
            note,
        )

    def has_return_permission(self, request: HttpRequest) -> bool:
        # The admin's change form is closed for rentals; returning is their only change.
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    @admin.action(description="Mark selected rentals returned", permissions=["return"])
    def mark_returned(self, request: HttpRequest, queryset: QuerySet[Rental]) -> None:
        """Return each selected rental now, all in one transaction; late fees become owed."""
        staff = request_staff(request)
        if staff is None:
            self.message_user(request, services.STAFF_NOT_LINKED, messages.ERROR)
            return
        count = queryset.count()
        if count > RETURN_LIMIT:
            self.message_user(
                request, RETURN_TOO_MANY.format(limit=RETURN_LIMIT, count=count), messages.ERROR
            )
            return
        returned, fees, skipped = 0, Decimal("0.00"), []
        try:
            with transaction.atomic():
                for rental in queryset.select_related(None).order_by("pk"):
                    try:
                        result = services.rental_return(rental=rental, staff=staff)
                    except ValidationError as error:
                        # Already returned (maybe by another clerk just now): skip it.
                        if set(error.message_dict) == {"rental"}:
                            skipped.extend(error.messages)
                            continue
                        raise
                    returned += 1
                    fees += result.late_fee
        except ValidationError as error:
            message = RETURN_FAILED.format(error=" ".join(error.messages))
            self.message_user(request, message, messages.ERROR)
            return
        if skipped:
            details = " ".join(skipped[:10]) + (" ..." if len(skipped) > 10 else "")
            message = RETURN_SKIPPED.format(count=len(skipped), details=details)
            self.message_user(request, message, messages.WARNING)
        if returned:
            self.message_user(
                request, RETURNED.format(count=returned, fees=money(fees)), messages.SUCCESS
            )


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


# Customers ---------------------------------------------------------------------------------------


@admin.register(Customer)
class CustomerAdmin(SafeAutocompleteMixin, IdSearchMixin, admin.ModelAdmin):
    list_display = ("customer_id", "name", "email", "store", "active", "created")
    # One link a row: with a filter or search kept in the links, Django resolves
    # each link's URL again (a third of the page's time with three of them).
    list_display_links = ("name",)
    list_select_related = ("store",)
    list_filter = ("active", "store")
    ordering = ("last_name", "first_name")
    search_fields = ("first_name", "last_name", "email")
    search_help_text = "A customer id, or part of a name or email address."
    autocomplete_fields = ("address", "store")
    readonly_fields = ("balance", "activity", "last_update")
    fields = (
        "store",
        "first_name",
        "last_name",
        "email",
        "address",
        "active",
        "create_date",
        "balance",
        "activity",
        "last_update",
    )
    show_full_result_count = False

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        staff = request_staff(request)
        if staff is not None:
            initial.setdefault("store", staff.store_id)
        return initial

    def get_fields(self, request, obj=None):
        # The balance and activity exist once the customer does.
        if obj is not None:
            return self.fields
        return [field for field in self.fields if field not in self.readonly_fields]

    @admin.display(description="name", ordering="last_name")
    def name(self, customer: Customer) -> str:
        return f"{customer.last_name}, {customer.first_name}"

    @admin.display(description="created", ordering="create_date")
    def created(self, customer: Customer) -> str:
        return f"{customer.create_date:{SHORT_DATETIME}}"

    @admin.display(description="balance")
    def balance(self, customer: Customer) -> str:
        account = selectors.customer_account_get(customer=customer)
        text = formatting.balance(account.balance)
        if account.overdue:
            text += (
                f" (including {money(account.overdue_fees)} accrued on "
                f"{len(account.overdue)} overdue rental(s))"
            )
        return text

    @admin.display(description="rentals and payments")
    def activity(self, customer: Customer) -> str:
        query = f"?customer__customer_id__exact={customer.pk}"
        links = [
            (reverse("admin:rentals_rental_changelist") + query, "Rentals"),
            (reverse("admin:rentals_payment_changelist") + query, "Payments"),
            (reverse("admin:rentals_rental_add") + f"?customer={customer.pk}", "Rent a film"),
            (reverse("admin:rentals_payment_add") + f"?customer={customer.pk}", "Take a payment"),
        ]
        return format_html_join(" · ", '<a href="{}">{}</a>', links)


# The catalogue -----------------------------------------------------------------------------------


@admin.register(Language)
class LanguageAdmin(admin.ModelAdmin):
    list_display = ("language_id", "name", "last_update")
    search_fields = ("name",)


@admin.register(Country)
class CountryAdmin(admin.ModelAdmin):
    list_display = ("country_id", "country", "last_update")
    search_fields = ("country",)
    ordering = ("country",)


@admin.register(City)
class CityAdmin(SafeAutocompleteMixin, admin.ModelAdmin):
    list_display = ("city_id", "city", "country", "last_update")
    list_select_related = ("country",)
    search_fields = ("city", "country__country")
    ordering = ("city",)
    autocomplete_fields = ("country",)


@admin.register(Address)
class AddressAdmin(SafeAutocompleteMixin, admin.ModelAdmin):
    list_display = ("address_id", "address", "address2", "district", "city", "postal_code", "phone")
    list_select_related = ("city",)
    search_fields = ("address", "district", "postal_code", "phone", "city__city")
    autocomplete_fields = ("city",)
    show_full_result_count = False


ROW_GONE = "This row was changed or removed meanwhile: reload the page and try again."


class CompositeKeyField(forms.Field):
    """The hidden key of an inline row whose primary key is composite, written
    as the JSON list ``CompositePrimaryKey.to_python`` reads, cleaned to the
    tuple the row's ``pk`` is, and only one of ``keys`` (the formset's rows)."""

    widget = forms.HiddenInput
    default_error_messages = {"invalid": ROW_GONE}

    def __init__(self, *, model_field, keys: set[tuple], **kwargs) -> None:
        self.model_field = model_field
        self.keys = keys
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, (tuple, list)):
            return json.dumps(list(value))
        return value

    def to_python(self, value) -> tuple | None:
        if value in self.empty_values:
            return None
        try:
            key = tuple(self.model_field.to_python(value))
        except (ValueError, TypeError, ValidationError):
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        if key not in self.keys:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return key


class CompositeKeyInlineFormSet(forms.BaseInlineFormSet):
    """Inline rows of film_actor and film_category, whose primary key is composite.

    Django 5.2's model formsets render such a key in the hidden field of each
    row as the text of a tuple, "(1, 14)", and cannot read it back
    (``CompositePrimaryKey.to_python`` expects JSON): saving a film with
    actors was a 500. Here the key goes out as JSON and comes back as the tuple
    that names the row; an unreadable or unknown key is the row's error.
    """

    @cached_property
    def _row_keys(self) -> set[tuple]:
        return {row.pk for row in self.get_queryset()}

    def _key_field(self, **kwargs) -> CompositeKeyField:
        return CompositeKeyField(model_field=self.model._meta.pk, keys=self._row_keys, **kwargs)

    def _get_to_python(self, field):
        # How _construct_form reads a posted key to find its row: the same
        # reading as the hidden field, so a bad key finds no row instead of a 500.
        return self._key_field().to_python

    def add_fields(self, form, index) -> None:
        super().add_fields(form, index)
        pk_name = self.model._meta.pk.name
        form.fields[pk_name] = self._key_field(initial=form.fields[pk_name].initial, required=False)

    def clean(self) -> None:
        super().clean()
        # The admin's tabular rows do not show a hidden field's error.
        pk_name = self.model._meta.pk.name
        if any(pk_name in form.errors for form in self.forms):
            raise ValidationError(ROW_GONE)
        # Django's unique check of the rows skips a composite key, and saving
        # an actor listed twice would quietly keep one: say so instead.
        names = [f.name for f in self.model._meta.pk.fields if f != self.fk]
        seen = set()
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or self._should_delete_form(form):
                continue
            value = tuple(form.cleaned_data.get(name) for name in names)
            if None in value:
                continue
            if value in seen:
                raise ValidationError(self.get_unique_error_message(names))
            seen.add(value)

    def save_existing(self, form, obj, commit=True):
        # The key is the row: a row given another actor (or category) is
        # another row. Saving would insert it and keep the old one, so the
        # old one goes first.
        old_key = form.cleaned_data.get(self.model._meta.pk.name)
        if commit and old_key is not None and obj.pk != old_key:
            self.model._default_manager.filter(pk=old_key).delete()
        return super().save_existing(form, obj, commit=commit)


class FilmActorInline(SafeAutocompleteMixin, admin.TabularInline):
    """The actors of a film, on the film's page."""

    model = FilmActor
    formset = CompositeKeyInlineFormSet
    fields = ("actor",)
    autocomplete_fields = ("actor",)
    extra = 0


class ActorFilmInline(SafeAutocompleteMixin, admin.TabularInline):
    """The films of an actor, on the actor's page."""

    model = FilmActor
    formset = CompositeKeyInlineFormSet
    fields = ("film",)
    autocomplete_fields = ("film",)
    extra = 0
    verbose_name = "film"
    verbose_name_plural = "films"


class FilmCategoryInline(SafeAutocompleteMixin, admin.TabularInline):
    model = FilmCategory
    formset = CompositeKeyInlineFormSet
    fields = ("category",)
    autocomplete_fields = ("category",)
    extra = 0


@admin.register(Actor)
class ActorAdmin(IdSearchMixin, admin.ModelAdmin):
    list_display = ("actor_id", "first_name", "last_name", "last_update")
    search_fields = ("first_name", "last_name")
    ordering = ("last_name", "first_name")
    inlines = [ActorFilmInline]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("category_id", "name", "last_update")
    search_fields = ("name",)
    ordering = ("name",)


class FilmChangeList(ChangeList):
    """Adds each listed film's categories and copies per store: two queries per page.

    Copies, not free copies: counting open rentals per copy reads every rental
    of every listed copy (0.35 s on SQLite, seconds on MariaDB for a page of 100
    films with 1.6M rentals), so free copies are left to the desk.
    """

    def get_results(self, request):
        super().get_results(request)
        films = list(self.result_list)
        prefetch_related_objects(films, "categories")
        copies = (
            Inventory.objects.filter(film__in=[film.pk for film in films])
            .values_list("film_id", "store_id")
            .annotate(count=Count("pk"))
            .order_by("film_id", "store_id")
        )
        per_film: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for film_id, store_id, count in copies:
            per_film[film_id].append((store_id, count))
        for film in films:
            film.copies_per_store = per_film[film.pk]


@admin.register(Film)
class FilmAdmin(SafeAutocompleteMixin, IdSearchMixin, admin.ModelAdmin):
    list_display = (
        "film_id",
        "title",
        "release_year",
        "category_list",
        "rating",
        "rental_rate",
        "rental_duration",
        "length",
        "copies",
    )
    list_display_links = ("film_id", "title")
    list_select_related = ("language",)
    list_filter = ("rating", "categories", "rental_rate", "rental_duration", "language")
    search_fields = ("title",)
    search_help_text = "A film id, or part of a title."
    ordering = ("title",)
    autocomplete_fields = ("language", "original_language")
    formfield_overrides = {CommaSeparatedSetField: {"widget": forms.CheckboxSelectMultiple}}
    inlines = [FilmCategoryInline, FilmActorInline]
    fieldsets = [
        (None, {"fields": ("title", "description", "release_year")}),
        ("Language", {"fields": ("language", "original_language")}),
        (
            "Rental terms",
            {"fields": ("rental_duration", "rental_rate", "replacement_cost")},
        ),
        ("Details", {"fields": ("length", "rating", "special_features")}),
    ]

    def get_changelist(self, request, **kwargs):
        return FilmChangeList

    @admin.display(description="categories")
    def category_list(self, film: Film) -> str:
        return ", ".join(category.name for category in film.categories.all())

    @admin.display(description="copies")
    def copies(self, film: Film) -> str:
        stores = getattr(film, "copies_per_store", [])
        return " · ".join(f"Store {store}: {count}" for store, count in stores) or "none"

    def delete_queryset(self, request, queryset) -> None:
        # Film.delete also deletes the film's film_text row; QuerySet.delete would not.
        with transaction.atomic():
            for film in queryset:
                film.delete()


@admin.register(FilmText)
class FilmTextAdmin(admin.ModelAdmin):
    """film_text is a copy of film kept by Film.save: shown, never edited here."""

    list_display = ("film_id", "title")
    search_fields = ("title",)
    ordering = ("title",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# Stores, staff, copies -------------------------------------------------------------------------


@admin.register(Staff)
class StaffAdmin(SafeAutocompleteMixin, admin.ModelAdmin):
    list_display = ("staff_id", "first_name", "last_name", "email", "store", "active", "login")
    list_select_related = ("store", "profile__user")
    list_filter = ("active", "store")
    search_fields = ("first_name", "last_name", "email", "username")
    ordering = ("last_name", "first_name")
    autocomplete_fields = ("address", "store")
    # Sakila's password column holds a SHA1 hash; logins are Django users (see the user admin).
    fields = ("first_name", "last_name", "email", "username", "address", "store", "active")

    @admin.display(description="login")
    def login(self, staff: Staff) -> str:
        profile = getattr(staff, "profile", None)
        return profile.user.get_username() if profile is not None else "-"


@admin.register(Store)
class StoreAdmin(SafeAutocompleteMixin, admin.ModelAdmin):
    list_display = ("store_id", "manager_staff", "address", "city")
    list_select_related = ("manager_staff", "address__city")
    search_fields = ("address__address", "address__city__city", "manager_staff__last_name")
    autocomplete_fields = ("manager_staff", "address")

    @admin.display(description="city")
    def city(self, store: Store) -> City:
        return store.address.city


@admin.register(Inventory)
class InventoryAdmin(SafeAutocompleteMixin, IdSearchMixin, admin.ModelAdmin):
    list_display = ("inventory_id", "film", "store", "is_out", "last_update")
    list_select_related = ("film", "store")
    list_filter = ("store",)
    search_fields = ("film__title",)
    search_help_text = "A copy id, or part of a film title."
    ordering = ("-inventory_id",)
    sortable_by = ("inventory_id",)
    paginator = KeysFirstPaginator
    autocomplete_fields = ("film", "store")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER

    def get_queryset(self, request):
        # Computed for the listed rows only (a correlated EXISTS per row).
        return (
            super()
            .get_queryset(request)
            .annotate(out=Exists(Rental.objects.open().filter(inventory=OuterRef("pk"))))
        )

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term or parse_id(term) is not None:
            return super().get_search_results(request, queryset, term)
        films = Film.objects.filter(title__icontains=term).values("pk")
        return queryset.filter(film__in=films), False

    @admin.display(description="out", boolean=True)
    def is_out(self, copy: Inventory) -> bool:
        return copy.out


# Logins ------------------------------------------------------------------------------------------


class StaffProfileInline(SafeAutocompleteMixin, admin.StackedInline):
    model = StaffProfile
    fields = ("staff",)
    autocomplete_fields = ("staff",)
    can_delete = True
    verbose_name = "Sakila staff member"
    verbose_name_plural = "Sakila staff member (rentals and payments are recorded as them)"


User = get_user_model()
admin.site.unregister(User)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = [*DjangoUserAdmin.inlines, StaffProfileInline]
    list_display = (*DjangoUserAdmin.list_display, "staff_member")
    list_select_related = ("staff_profile__staff",)

    @admin.display(description="staff member")
    def staff_member(self, user) -> str:
        profile = getattr(user, "staff_profile", None)
        return str(profile.staff) if profile is not None else "-"
