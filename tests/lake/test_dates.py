from datetime import date

import pyarrow as pa
import pytest

from lake.core.dates import dim_date_additions, dim_date_rows


def rows_by_date(first: date, last: date) -> dict[date, dict]:
    return {row["full_date"]: row for row in dim_date_rows(first, last).to_pylist()}


def test_every_day_in_the_range_once():
    days = rows_by_date(date(2005, 5, 24), date(2006, 2, 14))
    assert len(days) == 267
    assert min(days) == date(2005, 5, 24) and max(days) == date(2006, 2, 14)


def test_ids_quarters_and_iso_weekdays():
    days = rows_by_date(date(2005, 1, 1), date(2005, 12, 31))
    new_year = days[date(2005, 1, 1)]  # a Saturday, in ISO week 53 of 2004
    assert new_year["date_id"] == 20050101
    assert (new_year["day_of_week"], new_year["day_name"], new_year["week_of_year"]) == (
        6,
        "Saturday",
        53,
    )
    assert new_year["is_weekend"] is True
    sunday = days[date(2005, 7, 31)]
    assert (sunday["day_of_week"], sunday["is_weekend"], sunday["quarter"]) == (7, True, 3)
    monday = days[date(2005, 8, 1)]
    assert (monday["day_of_week"], monday["is_weekend"], monday["week_of_year"]) == (1, False, 31)
    assert days[date(2005, 12, 31)]["quarter"] == 4
    assert days[date(2005, 4, 1)]["quarter"] == 2
    assert days[date(2005, 2, 14)]["month_name"] == "February"


def test_us_holidays_of_2005():
    days = rows_by_date(date(2005, 1, 1), date(2005, 12, 31))
    assert days[date(2005, 5, 30)]["holiday_name"] == "Memorial Day"
    assert days[date(2005, 7, 4)]["holiday_name"] == "Independence Day"
    assert days[date(2005, 11, 24)]["holiday_name"] == "Thanksgiving Day"
    assert all(
        days[d]["is_holiday"] for d in (date(2005, 5, 30), date(2005, 7, 4), date(2005, 11, 24))
    )
    assert (
        days[date(2005, 7, 5)] | {"is_holiday": False, "holiday_name": None}
        == days[date(2005, 7, 5)]
    )
    assert sum(row["is_holiday"] for row in days.values()) >= 10


@pytest.mark.parametrize(
    ("first", "last", "existing"),
    [
        # new days on both sides; days all there already; today, 20 years after
        (date(2005, 5, 20), date(2005, 6, 10), [(date(2005, 5, 24), date(2005, 5, 31))]),
        (date(2005, 5, 25), date(2005, 5, 30), [(date(2005, 5, 24), date(2005, 5, 31))]),
        (date(2026, 12, 6), date(2026, 12, 6), [(date(2005, 5, 24), date(2006, 2, 14))]),
        # a hole inside what exists is filled too
        (
            date(2005, 6, 1),
            date(2005, 6, 1),
            [(date(2005, 5, 24), date(2005, 5, 28)), (date(2005, 6, 3), date(2005, 6, 9))],
        ),
    ],
)
def test_dim_date_additions_are_the_missing_days_and_no_others(first, last, existing):
    ids = {d for low, high in existing for d in dim_date_rows(low, high)["date_id"].to_pylist()}
    added = dim_date_additions(first, last, ids)
    low, high = existing[0][0], existing[-1][1]
    whole = dim_date_rows(min(first, low), max(last, high))
    expected = whole.filter(pa.array([d not in ids for d in whole["date_id"].to_pylist()]))
    assert added.to_pylist() == expected.to_pylist()
