"""Customers, staff, stores and their addresses (country, city, address), and
the logins: Django's users, each linked to a staff row."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.urls import reverse
from django.utils.html import format_html_join

from rentals import formatting, selectors
from rentals.admin.toolkit import (
    SHORT_DATETIME,
    IdSearchMixin,
    SafeAutocompleteMixin,
    money,
    request_staff,
)
from rentals.models import Address, City, Country, Customer, Staff, StaffProfile, Store


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
