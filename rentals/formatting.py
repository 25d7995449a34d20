"""Money as people read it: "$1,234.50", "$12.00 owed", "$5.00 in credit".

One place, so the desk, the admin, messages and errors all say it the same way.
"""

from decimal import Decimal

CENT = Decimal("0.01")


def money(amount: Decimal | int | str | None) -> str:
    """ "$1,234.50"; negative amounts as "-$5.00"; None as an empty string."""
    if amount is None or amount == "":
        return ""
    value = Decimal(amount).quantize(CENT)
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def balance(amount: Decimal | int | str) -> str:
    """A customer's balance: "$12.00 owed", "$5.00 in credit" or "nothing owed"."""
    value = Decimal(amount).quantize(CENT)
    if value > 0:
        return f"{money(value)} owed"
    if value < 0:
        return f"{money(-value)} in credit"
    return "nothing owed"
