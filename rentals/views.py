"""The rental desk (/desk/): rent, return, take payments, look customers up.

Views validate input, call one service or selector, and render. Rentals and
payments are recorded with the logged-in user's staff row and its store.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from rentals import selectors, services
from rentals.forms import (
    CustomerSearchForm,
    PaymentForm,
    RentForm,
    ReturnForm,
    add_service_error,
)
from rentals.models import Customer


def desk_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login, the permission to rent, and a staff row (``request.staff``)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.has_perm("rentals.add_rental"):
            raise PermissionDenied("The rental desk is for clerks.")
        request.staff = selectors.staff_for_user(request.user)
        if request.staff is None:
            return render(
                request, "desk/not_staff.html", {"message": services.STAFF_NOT_LINKED}, status=403
            )
        return view(request, *args, **kwargs)

    return wrapper


def _desk_page(request: HttpRequest, **forms) -> HttpResponse:
    store = request.staff.store
    rent_form = forms.pop("rent_form", None) or RentForm(store=store)
    context = {
        "staff": request.staff,
        "store": store,
        "rent_form": rent_form,
        "return_form": ReturnForm(),
        "search_form": CustomerSearchForm(),
        "available_films": rent_form.read_film_choices(),
        **forms,
    }
    status = 400 if rent_form.errors or any(form.errors for form in forms.values()) else 200
    return render(request, "desk/index.html", context, status=status)


@desk_view
@require_GET
def desk_index(request: HttpRequest) -> HttpResponse:
    return _desk_page(request)


@desk_view
@require_POST
def rent(request: HttpRequest) -> HttpResponse:
    form = RentForm(request.POST, store=request.staff.store)
    if form.is_valid():
        try:
            rental = services.rental_create(
                customer=form.cleaned_data["customer"],
                film=form.cleaned_data["film"],
                staff=request.staff,
                rental_date=form.cleaned_data["rental_date"],
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(request, f"Rented: copy {rental.inventory_id} to {rental.customer}.")
            return redirect("desk:rental", rental_id=rental.pk)
    return _desk_page(request, rent_form=form)


@desk_view
@require_POST
def return_rental(request: HttpRequest) -> HttpResponse:
    form = ReturnForm(request.POST)
    if form.is_valid():
        try:
            returned = services.rental_return(
                rental=form.cleaned_data["rental"], staff=request.staff
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            fee = returned.late_fee
            messages.success(
                request,
                f"Returned: copy {returned.rental.inventory_id} after {returned.days_kept} days"
                + (f"; late fee ${fee} charged." if fee else "; no late fee."),
            )
            return redirect("desk:rental", rental_id=returned.rental.pk)
    return _desk_page(request, return_form=form)


@desk_view
@require_GET
def rental_detail(request: HttpRequest, rental_id: int) -> HttpResponse:
    rental = get_object_or_404(selectors.rental_list(), pk=rental_id)
    return render(
        request,
        "desk/rental.html",
        {
            "rental": rental,
            "payments": rental.payments.order_by("payment_date", "pk"),
            "late_fee_now": (
                selectors.rental_late_fee_if_returned(rental=rental)
                if rental.return_date is None
                else None
            ),
        },
    )


def _customer_page(request: HttpRequest, customer: Customer, payment_form=None) -> HttpResponse:
    open_rentals = list(selectors.customer_open_rentals(customer=customer))
    for rental in open_rentals:
        rental.late_fee_now = selectors.rental_late_fee_if_returned(rental=rental)
    balance = selectors.customer_balance_get(customer=customer)
    return render(
        request,
        "desk/customer.html",
        {
            "customer": customer,
            "balance": balance,
            "open_rentals": open_rentals,
            "recent_rentals": selectors.customer_recent_rentals(customer=customer),
            "payment_form": payment_form
            or PaymentForm(initial={"amount": balance if balance > 0 else None}),
        },
        status=400 if payment_form is not None else 200,
    )


@desk_view
@require_GET
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = get_object_or_404(
        Customer.objects.select_related("store__address__city", "address__city"), pk=customer_id
    )
    return _customer_page(request, customer)


@desk_view
@require_POST
def customer_pay(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = get_object_or_404(Customer, pk=customer_id)
    form = PaymentForm(request.POST)
    if form.is_valid():
        try:
            payment = services.payment_create(
                customer=customer, staff=request.staff, amount=form.cleaned_data["amount"]
            )
        except ValidationError as error:
            add_service_error(form, error)
        else:
            messages.success(
                request,
                f"Payment {payment.pk} of ${payment.amount} recorded on "
                f"{payment.payment_date:%Y-%m-%d %H:%M}.",
            )
            return redirect("desk:customer", customer_id=customer.pk)
    return _customer_page(request, customer, payment_form=form)


@desk_view
@require_GET
def customer_search(request: HttpRequest) -> HttpResponse:
    """Live lookup: customers matching what was typed (an htmx fragment)."""
    # The rent form's customer field asks too, under its own name.
    form = CustomerSearchForm({"q": request.GET.get("q", request.GET.get("customer", ""))})
    query = form.cleaned_data["q"] if form.is_valid() else ""
    customers = selectors.customer_search(query=query) if query else []
    template = "desk/_customer_matches.html"
    if not request.htmx:
        template = "desk/customer_search.html"
    return render(
        request,
        template,
        {"customers": customers, "query": query, "pick": request.GET.get("pick") == "1"},
    )


@desk_view
@require_GET
def film_options(request: HttpRequest) -> HttpResponse:
    """Live search: the <option>s of films with a free copy here (an htmx fragment)."""
    query = request.GET.get("q", "")[:100]
    films = selectors.film_available_list(store=request.staff.store, search=query)
    return render(request, "desk/_film_options.html", {"films": films, "query": query})
