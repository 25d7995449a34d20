"""What a rental costs: the pricing rules, in one place.

The desk, the admin, the API and the lake all price rentals by these
functions, or by code tested against them: ``RentalQuerySet.overdue`` (the
database finds late rentals), ``lake/core/sql/marts/fact_sales.sql``,
``keys/fact_sales_keys.sql`` and the receivables check of
``fact_sales.checks.toml`` (the lake's fees, in SQL); see
``tests/rentals/test_pricing.py``.

- Due date: rental date + the film's rental_duration calendar days.
- Days late: calendar days past the due date (MySQL's TO_DAYS difference:
  23:00 on the due day is not late, 00:01 the next day is).
- Late fee: $1.00 a day late, capped at the film's replacement cost (a copy
  kept that long is treated as lost). It accrues while the copy is out and
  is final at its return.
- Charge: the rental rate plus the late fee.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from rentals.models import Rental

LATE_FEE_PER_DAY = Decimal("1.00")


def now() -> datetime:
    """The business's local time, to the second (DATETIME columns keep no more).

    The one clock of the rules: tests and reports "as of" a time pass a time
    explicitly, or replace this function.
    """
    return datetime.now().replace(microsecond=0)


def due_date(*, rental_date: datetime, rental_duration: int) -> datetime:
    return rental_date + timedelta(days=rental_duration)


def days_late(*, rental_date: datetime, rental_duration: int, until: datetime) -> int:
    """Calendar days past the due date at ``until`` (MySQL's TO_DAYS
    difference: 23:00 on the due day is not late, 00:01 the next day is)."""
    return max((until.date() - rental_date.date()).days - rental_duration, 0)


def late_fee(
    *, rental_duration: int, replacement_cost: Decimal, rental_date: datetime, until: datetime
) -> Decimal:
    """$1.00 per day late at ``until``, never more than the copy is worth (a
    copy kept that long is treated as lost)."""
    late = days_late(rental_date=rental_date, rental_duration=rental_duration, until=until)
    return min(late * LATE_FEE_PER_DAY, Decimal(replacement_cost)).quantize(LATE_FEE_PER_DAY)


def fee_until(*, return_date: datetime | None, as_of: datetime | None = None) -> datetime:
    """When a rental's fee stops counting, seen at ``as_of`` (now): its return
    (final) if it was back by then, else ``as_of`` itself (accrued so far)."""
    as_of = as_of or now()
    if return_date is not None and return_date <= as_of:
        return return_date
    return as_of


def rental_late_fee(*, rental: Rental, as_of: datetime | None = None) -> Decimal:
    """The late fee of ``rental`` as of ``as_of`` (now): final when returned,
    accrued so far while out."""
    film = rental.inventory.film
    return late_fee(
        rental_duration=film.rental_duration,
        replacement_cost=film.replacement_cost,
        rental_date=rental.rental_date,
        until=fee_until(return_date=rental.return_date, as_of=as_of),
    )


def rental_charge(
    *,
    rental_rate: Decimal,
    rental_duration: int,
    replacement_cost: Decimal,
    rental_date: datetime,
    return_date: datetime | None,
    as_of: datetime | None = None,
) -> Decimal:
    """What a rental costs the customer as of ``as_of`` (now): its rate plus
    its late fee (final when returned, accrued while out)."""
    return Decimal(rental_rate) + late_fee(
        rental_duration=rental_duration,
        replacement_cost=replacement_cost,
        rental_date=rental_date,
        until=fee_until(return_date=return_date, as_of=as_of),
    )
