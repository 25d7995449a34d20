"""The star schema: each mart's grain, key, schema and SQL.

A mart built by SQL has two files in ``lake/core/sql``: ``keys/<name>_keys.sql``
selects the keys whose rows must be rebuilt, from the ``changed_<table>``
rows of a run (all rows in a full run), and ``marts/<name>.sql`` builds the
rows for those keys from ``staging_<table>``. SQL may also read
``mart_<name>`` (a mart as it stands before the run) and ``run_clock``
(``RUN_CLOCK``): a mart whose keys read ``run_clock`` is checked every run,
changed rows or not, since time alone changes it (fees accruing). dim_date is built in Python
(``lake/core/dates.py``).
"""

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

SQL_DIR = Path(__file__).resolve().parent / "sql"

MONEY = pa.decimal128(9, 2)
TIMESTAMP = pa.timestamp("us")


@dataclass(frozen=True)
class Mart:
    name: str
    key: str  # rows are replaced per value of this column
    schema: pa.Schema
    month_partition: str | None = None

    @property
    def identifier(self) -> str:
        return f"marts.{self.name}"

    @property
    def keys_sql(self) -> str:
        return (SQL_DIR / "keys" / f"{self.name}_keys.sql").read_text()

    @property
    def sql(self) -> str:
        return (SQL_DIR / "marts" / f"{self.name}.sql").read_text()


DIM_DATE = Mart(
    "dim_date",
    "date_id",
    pa.schema([
        ("date_id", pa.int32()), ("full_date", pa.date32()), ("year", pa.int32()),
        ("quarter", pa.int32()), ("month", pa.int32()), ("month_name", pa.string()),
        ("day", pa.int32()), ("day_of_week", pa.int32()), ("day_name", pa.string()),
        ("week_of_year", pa.int32()), ("is_weekend", pa.bool_()), ("is_holiday", pa.bool_()),
        ("holiday_name", pa.string()),
    ]),
)  # fmt: skip

SQL_MARTS = (
    Mart(
        "dim_film",
        "film_id",
        pa.schema([
            ("film_id", pa.int64()), ("title", pa.string()), ("description", pa.string()),
            ("release_year", pa.int32()), ("language", pa.string()),
            ("original_language", pa.string()), ("rating", pa.string()), ("length", pa.int32()),
            ("rental_duration", pa.int32()), ("rental_rate", pa.decimal128(4, 2)),
            ("replacement_cost", pa.decimal128(5, 2)), ("category", pa.string()),
            ("special_features", pa.string()), ("actor_count", pa.int32()),
        ]),
    ),
    Mart(
        "dim_customer",
        "customer_id",
        pa.schema([
            ("customer_id", pa.int64()), ("first_name", pa.string()), ("last_name", pa.string()),
            ("full_name", pa.string()), ("email", pa.string()), ("active", pa.bool_()),
            ("create_date", TIMESTAMP), ("address", pa.string()), ("address2", pa.string()),
            ("district", pa.string()), ("postal_code", pa.string()), ("phone", pa.string()),
            ("city", pa.string()), ("country", pa.string()), ("store_id", pa.int64()),
        ]),
    ),
    Mart(
        "dim_store",
        "store_id",
        pa.schema([
            ("store_id", pa.int64()), ("manager_staff_id", pa.int64()), ("manager", pa.string()),
            ("address", pa.string()), ("district", pa.string()), ("postal_code", pa.string()),
            ("phone", pa.string()), ("city", pa.string()), ("country", pa.string()),
        ]),
    ),
    Mart(
        "dim_staff",
        "staff_id",
        pa.schema([
            ("staff_id", pa.int64()), ("first_name", pa.string()), ("last_name", pa.string()),
            ("full_name", pa.string()), ("email", pa.string()), ("username", pa.string()),
            ("active", pa.bool_()), ("store_id", pa.int64()), ("address", pa.string()),
            ("city", pa.string()), ("country", pa.string()),
        ]),
    ),
    Mart(
        "dim_actor",
        "actor_id",
        pa.schema([
            ("actor_id", pa.int64()), ("first_name", pa.string()), ("last_name", pa.string()),
            ("full_name", pa.string()), ("film_count", pa.int32()),
        ]),
    ),
    Mart(
        "bridge_film_actor",
        "film_id",
        pa.schema([("film_id", pa.int64()), ("actor_id", pa.int64())]),
    ),
    Mart(
        "fact_sales",
        "rental_id",
        pa.schema([
            ("rental_id", pa.int64()), ("date_sales_id", pa.int32()), ("customer_id", pa.int64()),
            ("film_id", pa.int64()), ("store_id", pa.int64()), ("staff_id", pa.int64()),
            ("inventory_id", pa.int64()), ("rental_date", TIMESTAMP), ("return_date", TIMESTAMP),
            ("rental_days", pa.int32()), ("is_returned", pa.bool_()), ("is_late", pa.bool_()),
            ("amount", MONEY), ("payment_count", pa.int32()), ("last_payment_date", TIMESTAMP),
            ("days_late", pa.int32()), ("late_fee", MONEY), ("charged", MONEY),
        ]),
        month_partition="rental_date",
    ),
    Mart(
        "fact_payment",
        "payment_id",
        pa.schema([
            ("payment_id", pa.int64()), ("date_id", pa.int32()), ("customer_id", pa.int64()),
            ("staff_id", pa.int64()), ("store_id", pa.int64()), ("rental_id", pa.int64()),
            ("amount", MONEY), ("payment_date", TIMESTAMP),
        ]),
        month_partition="payment_date",
    ),
)  # fmt: skip

# The run's clock, a one-row view ``run_clock`` that the SQL reads: ``as_of``,
# the time late fees of rentals still out are accrued to (the moment the run's
# extract read the rental database, unless a run is given another time).
RUN_CLOCK = pa.schema([("as_of", TIMESTAMP)])

MARTS = (DIM_DATE, *SQL_MARTS)
