"""The rental desk (/desk/): rent, return, take payments, look customers up.

Views validate input, call one service or selector, and render. Rentals and
payments are recorded with the logged-in user's staff row and its store.
"""

from collections.abc import Callable
from decimal import Decimal
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from rentals import formatting, pricing, selectors, services
from rentals.formatting import money
from rentals.forms import (
    SHARED_EMAIL_CODE,
    CustomerSearchForm,
    PaymentForm,
    RentForm,
    ReturnForm,
    add_service_error,
)
from rentals.models import Customer, Rental


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


def _desk_page(request: HttpRequest, status: int | None = None, **forms) -> HttpResponse:
    store = request.staff.store
    rent_form = forms.pop("rent_form", None) or RentForm(store=store)
    extra = {name: forms.pop(name) for name in ("rent_warning", "shared_email") if name in forms}
    context = {
        "staff": request.staff,
        "store": store,
        "rent_form": rent_form,
        "return_form": ReturnForm(),
        "search_form": CustomerSearchForm(),
        "available_films": rent_form.read_film_choices(),
        **forms,
        **extra,
    }
    if status is None:
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
    # Rented from a customer's page: a refusal is shown there.
    on_customer_page = request.POST.get("page") == "customer"
    if not form.is_valid():
        if on_customer_page and "customer" in form.cleaned_data:
            return _customer_page(request, form.cleaned_data["customer"], rent_form=form)
        shared = None
        if form.has_error("customer", code=SHARED_EMAIL_CODE):
            shared = list(selectors.customers_with_email(email=request.POST.get("customer", "")))
        return _desk_page(request, rent_form=form, shared_email=shared)
    customer = form.cleaned_data["customer"]
    if not form.cleaned_data["acknowledged"]:
        # What the customer owes or has overdue comes first; the clerk then
        # rents anyway (or the limit refuses, below, with the amount).
        account = selectors.customer_account_get(customer=customer)
        if account.needs_attention and not account.over_limit:
            data = form.data.copy()
            data["acknowledged"] = "on"
            confirm = RentForm(data, store=request.staff.store)
            confirm.is_valid()
            return _desk_page(request, rent_form=confirm, rent_warning=account, status=200)
    try:
        rental = services.rental_create(
            customer=customer,
            film=form.cleaned_data["film"],
            staff=request.staff,
            rental_date=form.cleaned_data["rental_date"],
        )
    except ValidationError as error:
        add_service_error(form, error)
        if on_customer_page:
            return _customer_page(request, customer, rent_form=form)
        return _desk_page(request, rent_form=form)
    messages.success(request, f"Rented: copy {rental.inventory_id} to {rental.customer}.")
    return redirect("desk:rental", rental_id=rental.pk)


@desk_view
@require_POST
def return_rental(request: HttpRequest) -> HttpResponse:
    """Take a copy back. Its late fee is owed; the rental's page then offers to
    take it (all or part) or leave it on the account."""
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
                + (
                    f", {returned.days_late} days late: late fee {money(fee)} owed."
                    if fee
                    else ", on time: nothing more to pay."
                ),
            )
            if returned.send_back_to is not None:
                messages.warning(request, returned.send_back_text)
            return redirect("desk:rental", rental_id=returned.rental.pk)
    return _desk_page(request, return_form=form)


@desk_view
@require_GET
def rental_detail(request: HttpRequest, rental_id: int) -> HttpResponse:
    rental = get_object_or_404(selectors.rental_list(), pk=rental_id)
    return _rental_page(request, rental)


def _rental_page(request: HttpRequest, rental: Rental, payment_form=None) -> HttpResponse:
    fee = pricing.rental_late_fee(rental=rental)
    paid = sum((p.amount for p in rental.payments.all()), Decimal("0.00"))
    balance = selectors.customer_balance_get(customer=rental.customer)
    # After a late return: offer what this rental still lacks (its fee, less any
    # part paid), or what the customer owes in all if that is less (credit).
    charged = rental.inventory.film.rental_rate + fee
    offer = min(charged - paid, balance) if rental.return_date is not None and fee > 0 else None
    if payment_form is None and offer is not None and offer > 0:
        payment_form = PaymentForm(initial={"amount": offer, "rental": rental.pk})
    return render(
        request,
        "desk/rental.html",
        {
            "rental": rental,
            "payments": rental.payments.select_related("staff").order_by("payment_date", "pk"),
            "late_fee": fee,
            "charged": charged,
            "offer": offer,
            "paid": paid,
            "balance": balance,
            "payment_form": payment_form,
        },
        status=400 if payment_form is not None and payment_form.errors else 200,
    )


def _customer_page(
    request: HttpRequest, customer: Customer, payment_form=None, rent_form=None
) -> HttpResponse:
    account = selectors.customer_account_get(customer=customer)
    # The page shows the balance and what is overdue: renting here needs no second look.
    rent_form = rent_form or RentForm(
        initial={"customer": customer.pk, "acknowledged": True}, store=request.staff.store
    )
    open_rentals = list(selectors.customer_open_rentals(customer=customer))
    for rental in open_rentals:
        rental.late_fee_now = selectors.rental_late_fee_if_returned(rental=rental)
    return render(
        request,
        "desk/customer.html",
        {
            "customer": customer,
            "account": account,
            "balance": account.balance,
            "open_rentals": open_rentals,
            "recent_rentals": selectors.customer_recent_rentals(customer=customer),
            "payments": selectors.customer_payments(customer=customer),
            "payment_form": payment_form
            or PaymentForm(initial={"amount": account.balance if account.balance > 0 else None}),
            "rent_form": rent_form,
            "available_films": rent_form.read_film_choices(),
        },
        status=400 if rent_form.errors or (payment_form and payment_form.errors) else 200,
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
    """Money received, on account or for one rental (``rental``: then the
    answer is that rental's page). More than owed asks to confirm first."""
    customer = get_object_or_404(Customer, pk=customer_id)
    form = PaymentForm(request.POST)
    if form.is_valid():
        rental = form.cleaned_data["rental"]
        try:
            payment = services.payment_create(
                customer=customer,
                staff=request.staff,
                amount=form.cleaned_data["amount"],
                rental=rental,
                confirm_overpayment=form.cleaned_data["confirm_overpayment"],
            )
        except ValidationError as error:
            add_service_error(form, error)
            form.asks_confirmation = services.is_overpayment(error)
        else:
            balance = selectors.customer_balance_get(customer=customer)
            messages.success(
                request,
                f"Payment {payment.pk} of {money(payment.amount)} received on "
                f"{payment.payment_date:%Y-%m-%d %H:%M}; balance: {formatting.balance(balance)}.",
            )
            if rental is not None:
                return redirect("desk:rental", rental_id=rental.pk)
            return redirect("desk:customer", customer_id=customer.pk)
    rental = form.cleaned_data.get("rental") if hasattr(form, "cleaned_data") else None
    if rental is not None:
        rental = selectors.rental_list().get(pk=rental.pk)
        return _rental_page(request, rental, payment_form=form)
    return _customer_page(request, customer, payment_form=form)


@desk_view
@require_GET
def customer_search(request: HttpRequest) -> HttpResponse:
    """Customers matching what was typed, a page at a time: an htmx fragment for
    the live lookups, else a page. Searching an exact id or email (pressing
    Enter in "Find a customer") opens that customer."""
    # The rent form's customer field asks too, under its own name.
    form = CustomerSearchForm({"q": request.GET.get("q", request.GET.get("customer", ""))})
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    pick = request.GET.get("pick") == "1"
    if query and not pick and not request.htmx:
        exact = selectors.customer_get_by_id_or_email(value=query)
        if exact is not None:
            return redirect("desk:customer", customer_id=exact.pk)
    customers = selectors.customer_search(query=query)
    page = Paginator(customers, selectors.CUSTOMER_LOOKUP_LIMIT).get_page(request.GET.get("page"))
    template = "desk/_customer_matches.html"
    if not request.htmx:
        template = "desk/customer_search.html"
    after = page.end_index()
    next_range = (after + 1, min(after + page.paginator.per_page, page.paginator.count))
    return render(
        request,
        template,
        {"page": page, "query": query, "pick": pick, "next_range": next_range},
    )


@desk_view
@require_GET
def film_options(request: HttpRequest) -> HttpResponse:
    """Live search: the <option>s of films with a free copy here (an htmx fragment)."""
    query = request.GET.get("q", "")[:100]
    store = request.staff.store
    films = selectors.film_available_list(store=store, search=query)
    # Titles that match but are not free here: when they are back, where they are free.
    not_free = [
        (film, services.film_elsewhere_text(film, store))
        for film in selectors.film_not_free_list(store=store, search=query)
    ]
    return render(
        request,
        "desk/_film_options.html",
        {"films": films, "query": query, "not_free": not_free},
    )
