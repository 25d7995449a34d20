"""dim_date: one row per calendar day, built in Python.

Calendar logic stays out of SQL (engines disagree on weekday numbering);
holidays are US federal holidays from the ``holidays`` package.
"""

from datetime import date, timedelta

import holidays
import pyarrow as pa

from lake.core.marts import DIM_DATE

# The days dim_date covers: from the first to the last day on which a copy was
# rented or money received (the date ids of fact_sales and fact_payment), read
# from staging (a rebuild) or a run's changed rows; both engines run it.
DAYS_SQL = """
select min(day) as first, max(day) as last from (
    select cast(rental_date as date) as day from {rentals}
    union all
    select cast(payment_date as date) as day from {payments}
) as days
"""


def days_sql(*, changed: bool) -> str:
    """DAYS_SQL over the run's changed rows, or over staging."""
    zone = "changed" if changed else "staging"
    return DAYS_SQL.format(rentals=f"{zone}_rental", payments=f"{zone}_payment")


def date_id(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def dim_date_rows(first: date, last: date) -> pa.Table:
    """Every day from ``first`` to ``last``, inclusive."""
    days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    us_holidays = holidays.country_holidays("US", years=range(first.year, last.year + 1))
    rows = {name: [] for name in DIM_DATE.schema.names}
    for day in days:
        iso = day.isocalendar()
        holiday = us_holidays.get(day)
        values = {
            "date_id": date_id(day),
            "full_date": day,
            "year": day.year,
            "quarter": (day.month - 1) // 3 + 1,
            "month": day.month,
            "month_name": day.strftime("%B"),
            "day": day.day,
            "day_of_week": iso.weekday,
            "day_name": day.strftime("%A"),
            "week_of_year": iso.week,
            "is_weekend": iso.weekday >= 6,
            "is_holiday": holiday is not None,
            "holiday_name": holiday,
        }
        for name, value in values.items():
            rows[name].append(value)
    return pa.table(rows, schema=DIM_DATE.schema)


def day_of(value: int) -> date:
    """The day of a date_id (YYYYMMDD)."""
    return date(value // 10000, value // 100 % 100, value % 100)


def dim_date_additions(first: date, last: date, existing: set[int]) -> pa.Table:
    """The days a dim_date holding the ``existing`` date_ids lacks to cover
    ``first`` to ``last`` and every day between it and them (no gaps).

    Only the missing days are built (a run adds today, not 20 years again).
    """
    if not existing:
        return dim_date_rows(first, last)
    low, high = day_of(min(existing)), day_of(max(existing))
    if len(existing) != (high - low).days + 1:  # a gap inside: fill it too
        rows = dim_date_rows(min(first, low), max(last, high))
        return rows.filter(pa.array([d not in existing for d in rows["date_id"].to_pylist()]))
    parts = []
    if first < low:
        parts.append(dim_date_rows(first, low - timedelta(days=1)))
    if last > high:
        parts.append(dim_date_rows(high + timedelta(days=1), last))
    return pa.concat_tables(parts) if parts else DIM_DATE.schema.empty_table()
