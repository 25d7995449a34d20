"""Read queries over the rental database, shared by the desk, the admin and the API."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from rentals import pricing
from rentals.models import (
    SAKILA_MODELS,
    Customer,
    Film,
    Inventory,
    Payment,
    Rental,
    Staff,
    Store,
)

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


def film_not_free_list(*, store: Store, search: str, limit: int = 5) -> QuerySet[Film]:
    """Films whose title matches ``search`` with no free copy at ``store``, by title."""
    if not search.strip():
        return Film.objects.none()
    free_copies = Inventory.objects.filter(film=OuterRef("pk"), store=store).free()
    films = Film.objects.filter(title__icontains=search.strip()).exclude(Exists(free_copies))
    return films.order_by("title")[:limit]


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


@dataclass(frozen=True)
class FilmElsewhere:
    """Where a film with no free copy at a store can be had: when the store's
    first copy out is due back, and the other stores with a copy free now."""

    film: Film
    store: Store
    first_due: datetime | None  # the earliest due date of the store's copies out
    free_at: list[tuple[Store, int]]  # other stores with free copies, how many each


def film_elsewhere_get(*, film: Film, store: Store) -> FilmElsewhere:
    """When ``film`` is back at ``store``, and which other stores have it free now."""
    first_out = (
        Rental.objects.open()
        .filter(inventory__film=film, inventory__store=store)
        .order_by("rental_date", "pk")
        .values_list("rental_date", flat=True)
        .first()
    )
    first_due = (
        pricing.due_date(rental_date=first_out, rental_duration=film.rental_duration)
        if first_out is not None
        else None
    )
    free = (
        Inventory.objects.filter(film=film)
        .exclude(store=store)
        .free()
        .values("store_id")
        .annotate(free=Count("pk"))
        .order_by("store_id")
    )
    counts = {row["store_id"]: row["free"] for row in free}
    stores = Store.objects.in_bulk(list(counts))
    return FilmElsewhere(
        film=film,
        store=store,
        first_due=first_due,
        free_at=[(stores[store_id], count) for store_id, count in counts.items()],
    )


def customer_search(*, query: str) -> QuerySet[Customer]:
    """Customers matching an id, an email or a name, best matches first (all of
    them: the desk shows ``CUSTOMER_LOOKUP_LIMIT`` a page)."""
    query = query.strip()
    customers = Customer.objects.select_related("store", "address").order_by("pk")
    if not query:
        return customers.none()
    if query.isdigit():
        return customers.filter(pk=int(query)) if len(query) <= 10 else customers.none()
    if "@" in query:
        return customers.filter(email__istartswith=query).order_by("email", "pk")
    matches = Q()
    for word in query.split():
        matches &= (
            Q(first_name__istartswith=word)
            | Q(last_name__istartswith=word)
            | Q(email__istartswith=word)
        )
    return customers.filter(matches).order_by("last_name", "first_name", "pk")


def customer_get_by_id_or_email(*, value: str) -> Customer | None:
    """The customer a clerk typed: a customer id, or an exact email address
    that only one customer has (see ``customers_with_email``)."""
    value = value.strip()
    if value.isdigit() and len(value) <= 10:
        return Customer.objects.filter(pk=int(value)).first()
    if "@" in value:
        matches = list(customers_with_email(email=value)[:2])
        return matches[0] if len(matches) == 1 else None
    return None


def customers_with_email(*, email: str) -> QuerySet[Customer]:
    """Every customer with this email address (several may share one: a
    family account), by id."""
    return (
        Customer.objects.select_related("store", "address")
        .filter(email__iexact=email.strip())
        .order_by("pk")
    )


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
    """The late fee an open rental would cost if returned at ``at`` (now):
    what it has accrued so far."""
    return pricing.rental_late_fee(rental=rental, as_of=at or pricing.now())


def customer_overdue_rentals(*, customer: Customer, as_of: datetime | None = None) -> list[Rental]:
    """The customer's rentals out past their due date as of ``as_of`` (now),
    oldest first, each with ``days_late`` and ``late_fee`` (accrued so far)."""
    as_of = as_of or pricing.now()
    overdue = []
    for rental in customer_open_rentals(customer=customer).order_by("rental_date", "pk"):
        film = rental.inventory.film
        rental.days_late = pricing.days_late(
            rental_date=rental.rental_date, rental_duration=film.rental_duration, until=as_of
        )
        if rental.days_late > 0:
            rental.late_fee = pricing.rental_late_fee(rental=rental, as_of=as_of)
            overdue.append(rental)
    return overdue


def customer_payments(*, customer: Customer, limit: int = 20) -> QuerySet[Payment]:
    """The customer's payments, newest first, with the rental each was for."""
    return (
        Payment.objects.filter(customer=customer)
        .select_related("staff", "rental__inventory__film")
        .order_by("-payment_date", "-pk")[:limit]
    )


def customer_balance_get(*, customer: Customer, as_of: datetime | None = None) -> Decimal:
    """What the customer owes (positive) or has in credit (negative) as of
    ``as_of`` (now): the rental rates and late fees of every rental made by
    then (fees final for copies back by then, accrued for the others) minus
    every payment received by then. ``pricing`` holds the rules.
    """
    as_of = as_of or pricing.now()
    charged = sum(
        (
            pricing.rental_charge(
                rental_rate=rate,
                rental_duration=duration,
                replacement_cost=replacement,
                rental_date=rented,
                return_date=returned,
                as_of=as_of,
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
    # Summed here, not by the database: SQLite sums DECIMAL columns as floats.
    paid = sum(
        customer.payments.filter(payment_date__lte=as_of).values_list("amount", flat=True),
        Decimal("0.00"),
    )
    return (charged - paid).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class CustomerAccount:
    """What a clerk sees before renting to or taking money from a customer."""

    balance: Decimal  # positive: owed
    overdue: list[Rental]  # out past due, with days_late and late_fee
    limit: Decimal | None  # DESK_BALANCE_LIMIT

    @property
    def overdue_fees(self) -> Decimal:
        return sum((rental.late_fee for rental in self.overdue), Decimal("0.00"))

    @property
    def over_limit(self) -> bool:
        return self.limit is not None and self.balance > self.limit

    @property
    def needs_attention(self) -> bool:
        return self.balance > 0 or bool(self.overdue)


def customer_account_get(*, customer: Customer, as_of: datetime | None = None) -> CustomerAccount:
    as_of = as_of or pricing.now()
    return CustomerAccount(
        balance=customer_balance_get(customer=customer, as_of=as_of),
        overdue=customer_overdue_rentals(customer=customer, as_of=as_of),
        limit=settings.DESK_BALANCE_LIMIT,
    )


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
