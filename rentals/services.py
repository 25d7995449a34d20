"""Business rules of the rental business: rent, return, pay.

Every door into the system (desk, admin, API, data generator) goes through
these functions, so a rule is written once. A refused operation raises
Django's ``ValidationError`` keyed by the field at fault, with one of the
messages below, and writes nothing.

Databases may rewrite what we store: the official Sakila data file installs
triggers that set ``rental_date`` and ``payment_date`` to NOW() on insert.
Services therefore read back what was stored and return that.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group
from django.core.exceptions import ValidationError
from django.db import transaction

from rentals.models import Customer, Film, Inventory, Payment, Rental, Staff, StaffProfile

LATE_FEE_PER_DAY = Decimal("1.00")
# payment.amount is DECIMAL(5,2).
MAX_PAYMENT = Decimal("999.99")

CUSTOMER_INACTIVE = "{customer} is not an active customer, so cannot rent."
RENTAL_DATE_IN_FUTURE = "The rental date {date:%Y-%m-%d %H:%M} is in the future."
FILM_NOT_STOCKED = "{store} has no copies of {film}."
NO_FREE_COPY = "Every copy of {film} at {store} is rented out."
STAFF_NOT_LINKED = (
    "Your login is not linked to a staff member, so it cannot record rentals or payments. "
    "Ask an administrator to link it to your staff row on your user page."
)
STAFF_INACTIVE = "{staff} is not active staff and cannot record rentals or payments."
ALREADY_RETURNED = "Rental {rental_id} was already returned on {date:%Y-%m-%d %H:%M}."
RETURN_DATE_IN_FUTURE = "The return date {date:%Y-%m-%d %H:%M} is in the future."
RETURN_BEFORE_RENTAL = "The return date is before the rental date ({date:%Y-%m-%d %H:%M})."
PAYMENT_AMOUNT_RANGE = "The amount must be between 0.01 and 999.99, not {amount}."
PAYMENT_DATE_IN_FUTURE = "The payment date {date:%Y-%m-%d %H:%M} is in the future."
PAYMENT_RENTAL_OF_OTHER_CUSTOMER = "Rental {rental_id} is not a rental of {customer}."


def now() -> datetime:
    """The business's local time, to the second (DATETIME columns keep no more)."""
    return datetime.now().replace(microsecond=0)


def rental_charge(
    *,
    rental_rate: Decimal,
    rental_duration: int,
    replacement_cost: Decimal,
    rental_date: datetime,
    return_date: datetime | None,
) -> Decimal:
    """What a rental costs in all, under Sakila's ``get_customer_balance`` rules.

    The rental rate, plus $1 for each day kept past ``rental_duration``, plus
    the replacement cost once it was kept more than twice that long. Days are
    calendar days (MySQL's TO_DAYS difference), not 24-hour periods; a rental
    not yet returned costs its rate so far.
    """
    charge = rental_rate
    if return_date is None:
        return charge
    days_kept = (return_date.date() - rental_date.date()).days
    if days_kept > rental_duration:
        charge += (days_kept - rental_duration) * LATE_FEE_PER_DAY
    if days_kept > 2 * rental_duration:
        charge += replacement_cost
    return charge


def late_fee(*, film: Film, rental_date: datetime, return_date: datetime) -> Decimal:
    """What returning a copy of ``film`` at ``return_date`` costs beyond its rate."""
    return (
        rental_charge(
            rental_rate=film.rental_rate,
            rental_duration=film.rental_duration,
            replacement_cost=film.replacement_cost,
            rental_date=rental_date,
            return_date=return_date,
        )
        - film.rental_rate
    )


def _check_staff(staff: Staff) -> None:
    if not staff.active:
        raise ValidationError({"staff": STAFF_INACTIVE.format(staff=staff)})


def _check_not_future(field: str, message: str, value: datetime) -> None:
    if value > now():
        raise ValidationError({field: message.format(date=value)})


@transaction.atomic
def rental_create(
    *, customer: Customer, film: Film, staff: Staff, rental_date: datetime | None = None
) -> Rental:
    """Rent a copy of ``film`` at ``staff``'s store to ``customer``.

    Charges the film's rental rate as a payment (Sakila's convention). The
    copies of the film at the store are locked in primary-key order first, so
    two clerks renting the last copy at once get one rental and one refusal
    (on SQLite the IMMEDIATE transaction serialises writers instead).
    """
    _check_staff(staff)
    rental_date = rental_date or now()
    _check_not_future("rental_date", RENTAL_DATE_IN_FUTURE, rental_date)
    customer = Customer.objects.get(pk=customer.pk)  # the active flag as of now
    if not customer.active:
        raise ValidationError({"customer": CUSTOMER_INACTIVE.format(customer=customer)})
    store = staff.store
    copies = list(
        Inventory.objects.select_for_update()
        .filter(film=film, store=store)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not copies:
        raise ValidationError({"film": FILM_NOT_STOCKED.format(film=film, store=store)})
    copy = Inventory.objects.filter(pk__in=copies).free(at=rental_date).order_by("pk").first()
    if copy is None:
        raise ValidationError({"film": NO_FREE_COPY.format(film=film, store=store)})
    rental = Rental.objects.create(
        rental_date=rental_date, inventory=copy, customer=customer, staff=staff
    )
    rental.refresh_from_db()
    _payments_create(
        customer=customer,
        staff=staff,
        rental=rental,
        amount=film.rental_rate,
        payment_date=rental.rental_date,
    )
    return rental


@dataclass(frozen=True)
class RentalReturn:
    rental: Rental
    days_kept: int
    late_fee: Decimal
    payments: list[Payment]


@transaction.atomic
def rental_return(
    *, rental: Rental, staff: Staff, return_date: datetime | None = None
) -> RentalReturn:
    """Take a copy back, charging the late fee (and replacement cost) as payments."""
    _check_staff(staff)
    rental = (
        Rental.objects.select_for_update()
        .select_related("inventory__film", "customer")
        .get(pk=rental.pk)
    )
    if rental.return_date is not None:
        raise ValidationError(
            {"rental": ALREADY_RETURNED.format(rental_id=rental.pk, date=rental.return_date)}
        )
    return_date = return_date or now()
    _check_not_future("return_date", RETURN_DATE_IN_FUTURE, return_date)
    if return_date < rental.rental_date:
        raise ValidationError({"return_date": RETURN_BEFORE_RENTAL.format(date=rental.rental_date)})
    rental.return_date = return_date
    rental.save(update_fields=["return_date", "last_update"])
    film = rental.inventory.film
    fee = late_fee(film=film, rental_date=rental.rental_date, return_date=return_date)
    payments = _payments_create(
        customer=rental.customer,
        staff=staff,
        rental=rental,
        amount=fee,
        payment_date=return_date,
    )
    return RentalReturn(
        rental=rental,
        days_kept=(return_date.date() - rental.rental_date.date()).days,
        late_fee=fee,
        payments=payments,
    )


@transaction.atomic
def payment_create(
    *,
    customer: Customer,
    staff: Staff,
    amount: Decimal,
    rental: Rental | None = None,
    payment_date: datetime | None = None,
) -> Payment:
    """Take a payment from ``customer``, for one of their rentals or on account."""
    _check_staff(staff)
    amount = Decimal(amount)
    if not (Decimal("0.01") <= amount <= MAX_PAYMENT) or amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({"amount": PAYMENT_AMOUNT_RANGE.format(amount=amount)})
    payment_date = payment_date or now()
    _check_not_future("payment_date", PAYMENT_DATE_IN_FUTURE, payment_date)
    if rental is not None and rental.customer_id != customer.pk:
        raise ValidationError(
            {
                "rental": PAYMENT_RENTAL_OF_OTHER_CUSTOMER.format(
                    rental_id=rental.pk, customer=customer
                )
            }
        )
    [payment] = _payments_create(
        customer=customer, staff=staff, rental=rental, amount=amount, payment_date=payment_date
    )
    return payment


def _payments_create(
    *,
    customer: Customer,
    staff: Staff,
    rental: Rental | None,
    amount: Decimal,
    payment_date: datetime,
) -> list[Payment]:
    """Record ``amount`` as payments of at most MAX_PAYMENT each (a very late
    return can cost more than one payment row holds); nothing for zero."""
    payments = []
    while amount > 0:
        part = min(amount, MAX_PAYMENT)
        payment = Payment.objects.create(
            customer=customer, staff=staff, rental=rental, amount=part, payment_date=payment_date
        )
        payment.refresh_from_db()
        payments.append(payment)
        amount -= part
    return payments


@transaction.atomic
def staff_user_create(
    *, username: str, password: str, role: str, staff: Staff | None = None, email: str = ""
) -> AbstractUser:
    """A login for the site in one of the roles of ``sakila_site.roles``.

    ``staff`` links the login to the Sakila staff row it works as (needed to
    rent and take payments). Every role may open the admin (``is_staff``);
    what it shows there follows the role's permissions.
    """
    user = get_user_model().objects.create_user(
        username=username, password=password, email=email, is_staff=True
    )
    user.groups.add(Group.objects.get(name=role))
    if staff is not None:
        StaffProfile.objects.create(user=user, staff=staff)
    return user
