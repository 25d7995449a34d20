"""Cells as people read them, the same on every report page and in the SQL
console: money as money (``$1,234.50``, one formatter: ``rentals.formatting``),
shares as percentages, counts with thousands separators, and ids and date
keys (``rental_id``, ``date_sales_id`` = 20050528) as they are, without."""

from datetime import date, datetime
from decimal import Decimal

from rentals.formatting import money

# Columns of money, by name (reports and console queries alike).
MONEY_COLUMNS = frozenset(
    {
        "revenue",
        "total_sales",
        "amount",
        "late_fee",
        "late_fees",
        "charged",
        "received",
        "outstanding",
        "average_payment",
        "rental_rate",
        "replacement_cost",
        "revenue_per_day",
        "previous_revenue",
    }
)


def is_number(value) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def is_share(column: str) -> bool:
    """A fraction of a whole (``late_share``): people read it as a percentage;
    the CSV and the API keep the fraction."""
    return column.endswith("_share")


def is_money(column: str) -> bool:
    return column.lower() in MONEY_COLUMNS


def is_key(column: str) -> bool:
    """An id or a date key (``store_id``, ``date_id``, ``year``): never 1,234."""
    name = column.lower()
    return name in {"id", "year", "release_year"} or name.endswith(("_id", "_key"))


def cell_text(value, column: str = "") -> str:
    if value is None:
        return "—"
    if is_share(column) and is_number(value):
        return f"{float(value):.1%}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if is_key(column) and is_number(value):
        return str(value)
    if is_money(column) and is_number(value):
        return money(Decimal(str(value)))
    if isinstance(value, Decimal | float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M:%S}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def column_title(name: str) -> str:
    return name.replace("_", " ").capitalize()
