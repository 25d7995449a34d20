"""Forms of the rental desk. They check what was typed; the rules are services'."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse

from rentals import selectors, services
from rentals.models import Customer, Film, Rental, Store
from sakila_site.converters import MAX_ID

UNKNOWN_CUSTOMER = "No customer has the id or email {value!r}."
CUSTOMER_ID_OR_EMAIL = "Type a customer id (a number) or an email address."
FILM_NOT_FREE = "{title} has no free copy at your store."
PICK_ANOTHER_FILM = "Pick another from the list."
UNKNOWN_FILM = "There is no film number {value}."
UNKNOWN_RENTAL = "There is no rental number {value}."
SHARED_EMAIL = (
    "{count} customers share {email}: choose one from the list, or type the customer's id."
)
SHARED_EMAIL_CODE = "shared_email"


def add_service_error(form: forms.Form, error: ValidationError) -> None:
    """Show a service's refusal on the form field it names, else on the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class CustomerField(forms.CharField):
    """A customer typed as an id or an exact email address."""

    def clean(self, value: str) -> Customer:
        value = super().clean(value).strip()
        if not (value.isdigit() or "@" in value):
            raise ValidationError(CUSTOMER_ID_OR_EMAIL)
        if "@" in value and selectors.customers_with_email(email=value)[:2].count() > 1:
            # Never guess: a shared email (a family account) names several people.
            count = selectors.customers_with_email(email=value).count()
            raise ValidationError(
                SHARED_EMAIL.format(count=count, email=value), code=SHARED_EMAIL_CODE
            )
        customer = selectors.customer_get_by_id_or_email(value=value)
        if customer is None:
            raise ValidationError(UNKNOWN_CUSTOMER.format(value=value))
        return customer


def film_option_label(film: Film) -> str:
    """A film as the desk lists it (and its title search, desk/_film_options.html):
    what the clerk tells the customer before renting."""
    return f"{film.title} ({film.rating}, ${film.rental_rate} for {film.rental_duration} days)"


class FreeFilmField(forms.ModelChoiceField):
    """A film with a free copy at the clerk's store (the choices)."""

    store: Store | None = None  # the clerk's store, set by the form

    def label_from_instance(self, obj: Film) -> str:
        return film_option_label(obj)

    def to_python(self, value):
        try:
            return super().to_python(value)
        except ValidationError as error:
            if error.code != "invalid_choice":
                raise
        # Most often the last copy went to another desk since the page loaded: name the film.
        film = Film.objects.filter(pk=value).first() if str(value).isdigit() else None
        if film is None:
            raise ValidationError(UNKNOWN_FILM.format(value=value), code="invalid_choice")
        # Say when it is back here and where it is free now.
        where = services.film_elsewhere_text(film, self.store) if self.store else ""
        message = " ".join(filter(None, (FILM_NOT_FREE.format(title=film.title), where)))
        message += f" {PICK_ANOTHER_FILM}"
        raise ValidationError(message, code="invalid_choice")


class RentForm(forms.Form):
    customer = CustomerField(
        label="Customer",
        max_length=50,
        help_text="Customer id or email; type a name to search.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
    )
    film = FreeFilmField(
        queryset=Film.objects.none(),
        empty_label="Choose a film",
    )
    rental_date = forms.DateTimeField(
        required=False,
        label="Rental date",
        help_text="Leave empty for now.",
        widget=DateTimeLocalInput(),
    )
    # Set once the clerk saw what the customer owes or has overdue and chose to rent anyway.
    acknowledged = forms.BooleanField(required=False, widget=forms.HiddenInput())

    def __init__(self, *args, store: Store, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["film"].queryset = selectors.film_available_list(store=store)
        self.fields["film"].store = store
        # Live lookups (htmx): matching customers under the field, films by title;
        # the customer field is a combobox of them (static/js/lookup.js).
        self.fields["customer"].widget.attrs.update(
            {
                "hx-get": reverse("desk:customer-search") + "?pick=1",
                # Not "changed": the same name typed again after a pick must ask again.
                "hx-trigger": "input delay:250ms",
                "hx-target": "#customer-matches",
                "role": "combobox",
                "aria-autocomplete": "list",
                "aria-expanded": "false",
                "aria-controls": "customer-listbox",
            }
        )

    def read_film_choices(self) -> int:
        """Read the free films once, for both the list and its count (the
        query is the desk's costliest); return how many there are."""
        field = self.fields["film"]
        # iter(): list() of the choices themselves would ask them for a COUNT first.
        field.choices = list(iter(field.choices))
        return len(field.choices) - 1  # the empty "Choose a film"


class RentalNumberField(forms.IntegerField):
    def __init__(self, **kwargs):
        super().__init__(min_value=1, max_value=MAX_ID, **kwargs)

    def clean(self, value: str) -> Rental:
        number = super().clean(value)
        rental = selectors.rental_list().filter(pk=number).first()
        if rental is None:
            raise ValidationError(UNKNOWN_RENTAL.format(value=number))
        return rental


class ReturnForm(forms.Form):
    rental = RentalNumberField(label="Rental number")


class CustomerSearchForm(forms.Form):
    q = forms.CharField(label="Customer", max_length=50, required=False)


class PaymentForm(forms.Form):
    amount = forms.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=Decimal("999.99"),
        label="Amount ($)",
        error_messages={
            "min_value": "The amount must be at least $0.01: nothing or less is not a payment.",
            "max_value": "One payment is at most $999.99.",
        },
    )
    # The rental the money is for (a fee taken after a return); empty: on account.
    rental = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, widget=forms.HiddenInput()
    )
    confirm_overpayment = forms.BooleanField(
        required=False, label="Yes, keep the difference as credit on the account"
    )

    def clean_rental(self) -> Rental | None:
        number = self.cleaned_data.get("rental")
        if number is None:
            return None
        rental = Rental.objects.filter(pk=number).first()
        if rental is None:
            raise ValidationError(UNKNOWN_RENTAL.format(value=number))
        return rental
