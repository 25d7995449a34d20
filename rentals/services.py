"""Business rules of the rental business.

Every door into the system (desk, admin, API, data generator) goes through
these functions, so a rule is written once.
"""

from datetime import datetime
from decimal import Decimal

LATE_FEE_PER_DAY = Decimal("1.00")


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
