"""Read queries over the rental database, shared by the desk, the admin and the API."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum

from rentals import services
from rentals.models import SAKILA_MODELS, Customer, Film, Inventory, Rental, Staff, Store

CUSTOMER_LOOKUP_LIMIT = 10


def table_row_counts() -> list[tuple[str, int]]:
    """(table name, row count) for every Sakila table, in load order."""
    return [(model._meta.db_table, model.objects.count()) for model in SAKILA_MODELS]


def staff_for_user(user: AbstractBaseUser | AnonymousUser) -> Staff | None:
    """The Sakila staff row a logged-in user works as, with its store, or None."""
    if not user.is_authenticated:
        return None
    return Staff.objects.select_related("store__address__city").filter(profile__user=user).first()


def film_available_list(*, store: Store, search: str = "") -> QuerySet[Film]:
    """Films with at least one free copy at ``store``, by title."""
    free_copies = Inventory.objects.filter(film=OuterRef("pk"), store=store).free()
    films = Film.objects.filter(Exists(free_copies))
    if search.strip():
        films = films.filter(title__icontains=search.strip())
    return films.order_by("title")


@dataclass(frozen=True)
class StoreAvailability:
    store_id: int
    copies: int
    free: int


def film_availability_map(*, film_ids: list[int]) -> dict[int, list[StoreAvailability]]:
    """Copies and free copies per store of each film, in one query."""
    open_rental = Rental.objects.open().filter(inventory=OuterRef("pk"))
    rows = (
        Inventory.objects.filter(film_id__in=film_ids)
        .values("film_id", "store_id")
        .annotate(copies=Count("pk"), free=Count("pk", filter=~Exists(open_rental)))
        .order_by("film_id", "store_id")
    )
    availability: dict[int, list[StoreAvailability]] = {film_id: [] for film_id in film_ids}
    for row in rows:
        availability[row["film_id"]].append(
            StoreAvailability(store_id=row["store_id"], copies=row["copies"], free=row["free"])
        )
    return availability


def customer_search(*, query: str) -> QuerySet[Customer]:
    """Customers matching an id, an email or a name, best matches first."""
    query = query.strip()
    customers = Customer.objects.select_related("store", "address")
    if not query:
        return customers.none()
    if query.isdigit():
        return customers.filter(pk=int(query)) if len(query) <= 10 else customers.none()
    if "@" in query:
        return customers.filter(email__istartswith=query).order_by("email")[:CUSTOMER_LOOKUP_LIMIT]
    matches = Q()
    for word in query.split():
        matches &= (
            Q(first_name__istartswith=word)
            | Q(last_name__istartswith=word)
            | Q(email__istartswith=word)
        )
    return customers.filter(matches).order_by("last_name", "first_name")[:CUSTOMER_LOOKUP_LIMIT]


def customer_get_by_id_or_email(*, value: str) -> Customer | None:
    """The customer a clerk typed: a customer id, or an exact email address."""
    value = value.strip()
    if value.isdigit() and len(value) <= 10:
        return Customer.objects.filter(pk=int(value)).first()
    if "@" in value:
        return Customer.objects.filter(email__iexact=value).order_by("pk").first()
    return None


def rental_list() -> QuerySet[Rental]:
    """Rentals with what a list shows of them (customer, copy, film, store, staff)."""
    return Rental.objects.select_related(
        "customer", "inventory__film", "inventory__store", "staff"
    ).order_by("-rental_date", "-pk")


def customer_open_rentals(*, customer: Customer) -> QuerySet[Rental]:
    return rental_list().filter(customer=customer).open()


def customer_recent_rentals(*, customer: Customer, limit: int = 10) -> QuerySet[Rental]:
    return rental_list().filter(customer=customer)[:limit]


def rental_late_fee_if_returned(*, rental: Rental, at: datetime | None = None) -> Decimal:
    """The late fee an open rental would cost if returned at ``at`` (now)."""
    return services.late_fee(
        film=rental.inventory.film,
        rental_date=rental.rental_date,
        return_date=at or services.now(),
    )


def customer_balance_get(*, customer: Customer, as_of: datetime | None = None) -> Decimal:
    """What the customer owes (positive) or has in credit (negative).

    Sakila's ``get_customer_balance``: the charges of every rental up to
    ``as_of`` (rate, late days, replacement cost) minus every payment.
    """
    as_of = as_of or services.now()
    charges = sum(
        (
            services.rental_charge(
                rental_rate=rate,
                rental_duration=duration,
                replacement_cost=replacement,
                rental_date=rented,
                return_date=returned,
            )
            for rented, returned, rate, duration, replacement in Rental.objects.filter(
                customer=customer, rental_date__lte=as_of
            ).values_list(
                "rental_date",
                "return_date",
                "inventory__film__rental_rate",
                "inventory__film__rental_duration",
                "inventory__film__replacement_cost",
            )
        ),
        Decimal("0.00"),
    )
    paid = customer.payments.filter(payment_date__lte=as_of).aggregate(total=Sum("amount"))[
        "total"
    ] or Decimal("0.00")
    # SQLite sums DECIMAL columns as floats; money is shown to the cent.
    return (charges - Decimal(paid)).quantize(Decimal("0.01"))


# Lists of the REST API (rentals/api): each with what its rows show, in one
# query per page (plus one per prefetched relation), whatever the page size.


def film_list() -> QuerySet[Film]:
    """Films with their language and categories, by title."""
    return (
        Film.objects.select_related("language")
        .prefetch_related("categories")
        .order_by("title", "pk")
    )


def customer_list() -> QuerySet[Customer]:
    """Customers with their address, by name."""
    return Customer.objects.select_related("address__city__country").order_by(
        "last_name", "first_name", "pk"
    )


def store_list() -> QuerySet[Store]:
    """Stores with their address and manager."""
    return Store.objects.select_related("address__city__country", "manager_staff").order_by("pk")


def inventory_list() -> QuerySet[Inventory]:
    """Copies with their film, and whether each is rented out now (``rented_out``)."""
    return (
        Inventory.objects.select_related("film")
        .annotate(rented_out=Exists(Rental.objects.open().filter(inventory=OuterRef("pk"))))
        .order_by("pk")
    )
