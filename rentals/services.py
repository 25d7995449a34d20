"""Business rules of the rental business: rent, return, pay, what is owed.

Every door into the system (desk, admin, API, data generator) goes through
these functions, so a rule is written once. A refused operation raises
Django's ``ValidationError`` keyed by the field at fault, with one of the
messages below, and writes nothing.

Money (``docs/money.md``; what a rental costs is ``rentals/pricing.py``):

- A payment is money received, at the counter or on account; the app never
  records a payment that was not received.
- Renting: the film's rental rate is paid at the counter (one payment).
- A late fee accrues while the copy is out; returning makes it final and
  owed, not paid.
- Balance = rental rates + late fees - payments (positive: the customer owes).

Databases may rewrite what we store: the official Sakila data file installs
triggers that set ``rental_date`` and ``payment_date`` to NOW() on insert.
Services therefore read back what was stored and return that.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, Min, OuterRef

from rentals import limits, pricing, selectors
from rentals.formatting import money
from rentals.models import (
    Customer,
    Film,
    Inventory,
    Payment,
    Rental,
    Staff,
    StaffProfile,
    Store,
)
from rentals.pricing import days_late, rental_late_fee

ZERO = Decimal("0.00")
# payment.amount is DECIMAL(5,2).
MAX_PAYMENT = Decimal("999.99")

CUSTOMER_INACTIVE = "{customer} is not an active customer, so cannot rent."
CUSTOMER_OVER_LIMIT = (
    "{customer} owes {owed}, more than the desk's limit of {limit}: take a payment before renting."
)
RENTAL_DATE_IN_FUTURE = "The rental date {date:%Y-%m-%d %H:%M} is in the future."
FILM_NOT_STOCKED = "{store} has no copies of {film}."
NO_FREE_COPY = "Every copy of {film} at {store} is rented out."
# What follows a "no free copy": when it is back here, where it is free now.
FIRST_DUE_BACK = "The first is due back on {date:%Y-%m-%d %H:%M}."
FIRST_OVERDUE = "The first was due back on {date:%Y-%m-%d %H:%M} (overdue)."
FREE_ELSEWHERE = "Free now at {stores}."
FREE_NOWHERE_ELSE = "No other store has a free copy."
NO_FREE_COPY_SINCE = (
    "No copy of {film} at {store} was free from {date:%Y-%m-%d %H:%M} until now "
    "(each was out, or rented again since): give a later date."
)
BEFORE_RECORDS = (
    "No copy of {film} at {store} is on record on {date}: "
    "the store's records of it start on {first}."
)
SAME_SECOND = (
    "{customer} already rented {film} at {date:%Y-%m-%d %H:%M:%S}, and a customer rents a "
    "copy once a second: give a later time."
)
STAFF_NOT_LINKED = (
    "Your login is not linked to a staff member, so it cannot record rentals or payments. "
    "Ask an administrator to link it to your staff row on your user page."
)
STAFF_INACTIVE = "{staff} is not active staff and cannot record rentals or payments."
ALREADY_RETURNED = "Rental {rental_id} was already returned on {date:%Y-%m-%d %H:%M}."
RETURN_DATE_IN_FUTURE = "The return date {date:%Y-%m-%d %H:%M} is in the future."
RETURN_BEFORE_RENTAL = "The return date is before the rental date ({date:%Y-%m-%d %H:%M})."
PAYMENT_AMOUNT_RANGE = "The amount must be between $0.01 and $999.99, not {amount}."
PAYMENT_DATE_IN_FUTURE = "The payment date {date:%Y-%m-%d %H:%M} is in the future."
PAYMENT_RENTAL_OF_OTHER_CUSTOMER = "Rental {rental_id} is not a rental of {customer}."
OVERPAYMENT = (
    "{amount} is more than {customer} owes ({owed}); confirm to keep the difference "
    "as credit on the account."
)
OVERPAYMENT_CODE = "overpayment"


def _check_staff(staff: Staff) -> None:
    if not staff.active:
        raise ValidationError({"staff": STAFF_INACTIVE.format(staff=staff)})


def _check_not_future(field: str, message: str, value: datetime) -> None:
    if value > pricing.now():
        raise ValidationError({field: message.format(date=value)})


def _check_balance_limit(customer: Customer) -> None:
    """Above ``DESK_BALANCE_LIMIT`` (when set) a customer pays before renting more."""
    limit = settings.DESK_BALANCE_LIMIT
    if limit is None:
        return
    owed = selectors.customer_balance_get(customer=customer)
    if owed > limit:
        raise ValidationError(
            {
                "customer": CUSTOMER_OVER_LIMIT.format(
                    customer=customer, owed=money(owed), limit=money(limit)
                )
            }
        )


def _free_copy(
    copies: list[int], *, customer: Customer, at: datetime
) -> tuple[Inventory | None, bool]:
    """The first of ``copies`` free at ``at``, and whether the only free ones
    were rented by ``customer`` at that very second: rental's unique key
    (rental_date, inventory_id, customer_id) allows one such rental."""
    free = Inventory.objects.filter(pk__in=copies).free(at=at).order_by("pk")
    same_key = Rental.objects.filter(inventory=OuterRef("pk"), customer=customer, rental_date=at)
    copy = free.exclude(Exists(same_key)).first()
    return copy, copy is None and free.exists()


def _no_free_copy(copies: list[int], *, film: Film, store: Store, at: datetime) -> dict:
    """Why none of ``copies`` can be rented from ``at``, keyed by the field at fault.

    A rental is out until returned, so a rental from ``at`` needs a copy free
    from then until now. Every copy out now: they are rented out. Otherwise
    the date is what stops it, either before anything the store recorded of
    the film (its first rental), or since when each copy was out for a while.
    """
    if not Inventory.objects.filter(pk__in=copies).free().exists():
        return {"film": no_free_copy_message(film=film, store=store)}
    first = Rental.objects.filter(inventory__in=copies).aggregate(first=Min("rental_date"))
    first = first["first"]
    if first is not None and at < first:
        # Days tell the dates apart, unless both are on the same day.
        shown = "%Y-%m-%d %H:%M" if at.date() == first.date() else "%Y-%m-%d"
        return {
            "rental_date": BEFORE_RECORDS.format(
                film=film, store=store, date=f"{at:{shown}}", first=f"{first:{shown}}"
            )
        }
    return {"rental_date": NO_FREE_COPY_SINCE.format(film=film, store=store, date=at)}


def no_free_copy_message(*, film: Film, store: Store) -> str:
    """ "Every copy ... is rented out.", then when and where the film can be had."""
    return f"{NO_FREE_COPY.format(film=film, store=store)} {film_elsewhere_text(film, store)}"


def film_elsewhere_text(film: Film, store: Store) -> str:
    """When the first copy of ``film`` out at ``store`` is due back, and which
    other stores have one free now, in words."""
    elsewhere = selectors.film_elsewhere_get(film=film, store=store)
    words = []
    if elsewhere.first_due is not None:
        late = elsewhere.first_due < pricing.now()
        words.append((FIRST_OVERDUE if late else FIRST_DUE_BACK).format(date=elsewhere.first_due))
    if elsewhere.free_at:
        stores = ", ".join(
            f"{other} ({count} cop{'y' if count == 1 else 'ies'})"
            for other, count in elsewhere.free_at
        )
        words.append(FREE_ELSEWHERE.format(stores=stores))
    else:
        words.append(FREE_NOWHERE_ELSE)
    return " ".join(words)


@transaction.atomic
def rental_create(
    *, customer: Customer, film: Film, staff: Staff, rental_date: datetime | None = None
) -> Rental:
    """Rent a copy of ``film`` at ``staff``'s store to ``customer``.

    The film's rental rate is paid at the counter: one payment. The copies of
    the film at the store are locked in primary-key order first, so two
    clerks renting the last copy at once get one rental and one refusal (on
    SQLite the IMMEDIATE transaction serialises writers instead).
    """
    _check_staff(staff)
    date_given = rental_date is not None
    rental_date = rental_date or pricing.now()
    _check_not_future("rental_date", RENTAL_DATE_IN_FUTURE, rental_date)
    customer = Customer.objects.get(pk=customer.pk)  # the active flag as of now
    if not customer.active:
        raise ValidationError({"customer": CUSTOMER_INACTIVE.format(customer=customer)})
    _check_balance_limit(customer)
    store = staff.store
    copies = list(
        Inventory.objects.select_for_update()
        .filter(film=film, store=store)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not copies:
        raise ValidationError({"film": FILM_NOT_STOCKED.format(film=film, store=store)})
    copy, same_second = _free_copy(copies, customer=customer, at=rental_date)
    if same_second:
        if date_given:
            message = SAME_SECOND.format(customer=customer, film=film, date=rental_date)
            raise ValidationError({"rental_date": message})
        # Renting again the copy the customer returned this very second:
        # "now" is kept to the second, so the next second is as true.
        rental_date += timedelta(seconds=1)
        copy, _ = _free_copy(copies, customer=customer, at=rental_date)
    if copy is None:
        raise ValidationError(_no_free_copy(copies, film=film, store=store, at=rental_date))
    limits.next_id_check(Payment, what="payment")  # renting records one: refuse before either
    with limits.new_id_guard(Rental, what="rental"):
        rental = Rental.objects.create(
            rental_date=rental_date, inventory=copy, customer=customer, staff=staff
        )
    rental.refresh_from_db()
    _payment_record(
        customer=customer,
        staff=staff,
        rental=rental,
        amount=film.rental_rate,
        payment_date=rental.rental_date,
    )
    return rental


SEND_BACK = "Copy {copy} belongs to {store}: send it back."


@dataclass(frozen=True)
class RentalReturn:
    rental: Rental
    days_kept: int
    days_late: int
    late_fee: Decimal  # final, and owed until paid
    payments: list[Payment]  # what was taken with the return (none unless asked)
    # A copy of another store, taken back here: it goes back to its own store.
    send_back_to: Store | None = None

    @property
    def send_back_text(self) -> str:
        if self.send_back_to is None:
            return ""
        return SEND_BACK.format(copy=self.rental.inventory_id, store=self.send_back_to)


@transaction.atomic
def rental_return(
    *,
    rental: Rental,
    staff: Staff,
    return_date: datetime | None = None,
    payment_amount: Decimal | None = None,
    confirm_overpayment: bool = False,
) -> RentalReturn:
    """Take a copy back. Its late fee becomes final and is owed: nothing is
    paid unless ``payment_amount`` is given (the clerk took money, all of
    the fee or part of it). A refused payment leaves the rental out too.

    Any store takes any store's copy back (the customer need not travel); the
    copy stays in its own store's inventory, and ``send_back_to`` names that
    store when it is not ``staff``'s: the clerk sends it back there.
    """
    _check_staff(staff)
    rental = (
        Rental.objects.select_for_update()
        .select_related("inventory__film", "inventory__store", "customer")
        .get(pk=rental.pk)
    )
    if rental.return_date is not None:
        raise ValidationError(
            {"rental": ALREADY_RETURNED.format(rental_id=rental.pk, date=rental.return_date)}
        )
    return_date = return_date or pricing.now()
    _check_not_future("return_date", RETURN_DATE_IN_FUTURE, return_date)
    if return_date < rental.rental_date:
        raise ValidationError({"return_date": RETURN_BEFORE_RENTAL.format(date=rental.rental_date)})
    rental.return_date = return_date
    rental.save(update_fields=["return_date", "last_update"])
    film = rental.inventory.film
    payments = []
    if payment_amount is not None:
        payments.append(
            payment_create(
                customer=rental.customer,
                staff=staff,
                amount=payment_amount,
                rental=rental,
                payment_date=return_date,
                confirm_overpayment=confirm_overpayment,
            )
        )
    return RentalReturn(
        rental=rental,
        days_kept=(return_date.date() - rental.rental_date.date()).days,
        days_late=days_late(
            rental_date=rental.rental_date,
            rental_duration=film.rental_duration,
            until=return_date,
        ),
        late_fee=rental_late_fee(rental=rental, as_of=return_date),
        payments=payments,
        send_back_to=(
            rental.inventory.store if rental.inventory.store_id != staff.store_id else None
        ),
    )


def payment_amount_check(amount: Decimal | str | int) -> Decimal:
    """The amount as Decimal, or a refusal naming it: more than zero, whole
    cents, at most what one payment row holds."""
    try:
        amount = Decimal(amount)
    except (ArithmeticError, ValueError, TypeError):
        raise ValidationError({"amount": PAYMENT_AMOUNT_RANGE.format(amount=amount)}) from None
    if (
        not amount.is_finite()
        or not (Decimal("0.01") <= amount <= MAX_PAYMENT)
        or amount != amount.quantize(Decimal("0.01"))
    ):
        raise ValidationError({"amount": PAYMENT_AMOUNT_RANGE.format(amount=amount)})
    return amount


@transaction.atomic
def payment_create(
    *,
    customer: Customer,
    staff: Staff,
    amount: Decimal,
    rental: Rental | None = None,
    payment_date: datetime | None = None,
    confirm_overpayment: bool = False,
) -> Payment:
    """Money received from ``customer``, for one of their rentals or on account.

    More than the customer owes is refused (code ``overpayment``) unless
    ``confirm_overpayment``: the difference then stays as credit.
    """
    _check_staff(staff)
    amount = payment_amount_check(amount)
    payment_date = payment_date or pricing.now()
    _check_not_future("payment_date", PAYMENT_DATE_IN_FUTURE, payment_date)
    if rental is not None and rental.customer_id != customer.pk:
        raise ValidationError(
            {
                "rental": PAYMENT_RENTAL_OF_OTHER_CUSTOMER.format(
                    rental_id=rental.pk, customer=customer
                )
            }
        )
    if not confirm_overpayment:
        owed = max(selectors.customer_balance_get(customer=customer), ZERO)
        if amount > owed:
            message = OVERPAYMENT.format(amount=money(amount), customer=customer, owed=money(owed))
            raise ValidationError({"amount": ValidationError(message, code=OVERPAYMENT_CODE)})
    return _payment_record(
        customer=customer, staff=staff, rental=rental, amount=amount, payment_date=payment_date
    )


def is_overpayment(error: ValidationError) -> bool:
    """Whether a refusal is only "more than owed" (the desk then asks to confirm)."""
    if not hasattr(error, "error_dict") or list(error.error_dict) != ["amount"]:
        return False
    return all(e.code == OVERPAYMENT_CODE for e in error.error_dict["amount"])


def _payment_record(
    *,
    customer: Customer,
    staff: Staff,
    rental: Rental | None,
    amount: Decimal,
    payment_date: datetime,
) -> Payment:
    with limits.new_id_guard(Payment, what="payment"):
        payment = Payment.objects.create(
            customer=customer, staff=staff, rental=rental, amount=amount, payment_date=payment_date
        )
    payment.refresh_from_db()
    return payment


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
