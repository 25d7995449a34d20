"""The pricing rules (rentals/pricing.py), and every other place that prices a
rental held against them: the database's idea of late (RentalQuerySet.overdue)
and the lake's SQL (fact_sales.sql, fact_sales_keys.sql), on the same cases."""

import random
import tomllib
from datetime import datetime, timedelta
from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest

from lake.core.checks import SQL_DIR
from lake.core.marts import MARTS, RUN_CLOCK
from lake.pipeline.schemas import staging_schema
from rentals import pricing
from rentals.models import Customer, Film, Inventory, Payment, Rental
from tests.factories import FilmFactory, InventoryFactory, RentalFactory

AS_OF = datetime(2026, 3, 10, 14, 30)
FACT_SALES = next(mart for mart in MARTS if mart.name == "fact_sales")
FACT_SALES_CHECKS = SQL_DIR / "marts" / "fact_sales.checks.toml"


def test_the_rules_by_example():
    rented = datetime(2026, 3, 1, 10, 0)  # due 2026-03-04 10:00 on a 3-day film
    assert pricing.due_date(rental_date=rented, rental_duration=3) == datetime(2026, 3, 4, 10)

    def late(until: datetime) -> int:
        return pricing.days_late(rental_date=rented, rental_duration=3, until=until)

    # Calendar days, as MySQL's TO_DAYS: late from the first minute of the day after.
    assert late(datetime(2026, 3, 4, 23, 59)) == 0
    assert late(datetime(2026, 3, 5, 0, 1)) == 1
    assert late(datetime(2026, 2, 28)) == 0  # never negative

    def fee(until: datetime, cost: str = "19.99") -> Decimal:
        return pricing.late_fee(
            rental_duration=3, replacement_cost=Decimal(cost), rental_date=rented, until=until
        )

    assert fee(datetime(2026, 3, 11, 9)) == Decimal("7.00")
    assert fee(datetime(2026, 6, 1)) == Decimal("19.99")  # capped at what the copy is worth
    assert fee(datetime(2026, 6, 1), cost="9.99") == Decimal("9.99")

    # A fee stops counting at the return; seen before the return, it has accrued so far.
    returned = datetime(2026, 3, 7, 12)
    assert pricing.fee_until(return_date=returned, as_of=AS_OF) == returned
    assert pricing.fee_until(return_date=returned, as_of=datetime(2026, 3, 6)) == datetime(
        2026, 3, 6
    )
    assert pricing.fee_until(return_date=None, as_of=AS_OF) == AS_OF
    charge = pricing.rental_charge(
        rental_rate=Decimal("2.99"),
        rental_duration=3,
        replacement_cost=Decimal("19.99"),
        rental_date=rented,
        return_date=returned,
        as_of=AS_OF,
    )
    assert charge == Decimal("5.99")  # the rate and 3 days late


def cases(count: int = 400, seed: int = 31) -> list[dict]:
    """Rentals around their due dates: minutes either side of midnight, long
    overdue (capped), returned before, at and after ``AS_OF``, or still out."""
    rng = random.Random(seed)
    made = []
    for rental_id in range(1, count + 1):
        duration = rng.choice([3, 4, 5, 6, 7])
        rented = AS_OF - timedelta(days=rng.randint(0, 40), minutes=rng.randint(0, 1439))
        returned = rng.choice(
            [
                None,
                rented + timedelta(days=duration, hours=rng.choice([-1, 0, 13, 14])),
                rented + timedelta(minutes=rng.randint(1, 60 * 24 * 45)),
            ]
        )
        made.append(
            {
                "rental_id": rental_id,
                "rental_date": rented,
                "return_date": returned,
                "rental_duration": duration,
                "rental_rate": Decimal(rng.choice(["0.99", "2.99", "4.99"])),
                "replacement_cost": Decimal(rng.choice(["9.99", "14.99", "19.99", "29.99"])),
            }
        )
    return made


def expected(case: dict) -> dict:
    until = pricing.fee_until(return_date=case["return_date"], as_of=AS_OF)
    return {
        "rental_id": case["rental_id"],
        "days_late": pricing.days_late(
            rental_date=case["rental_date"], rental_duration=case["rental_duration"], until=until
        ),
        "late_fee": pricing.late_fee(
            rental_duration=case["rental_duration"],
            replacement_cost=case["replacement_cost"],
            rental_date=case["rental_date"],
            until=until,
        ),
        "charged": pricing.rental_charge(
            rental_rate=case["rental_rate"],
            rental_duration=case["rental_duration"],
            replacement_cost=case["replacement_cost"],
            rental_date=case["rental_date"],
            return_date=case["return_date"],
            as_of=AS_OF,
        ),
    }


def staging(name: str, model, rows: list[dict]) -> tuple[str, pa.Table]:
    schema = staging_schema(model)
    filled = [{field: row.get(field) for field in schema.names} for row in rows]
    return name, pa.Table.from_pylist(filled, schema=schema)


def lake_sql(made: list[dict], *, stored_fees: dict[int, Decimal] | None = None):
    """DuckDB with the staging tables these cases make, the run's clock at
    ``AS_OF``, and fact_sales as stored before the run (``stored_fees``)."""
    con = duckdb.connect()
    tables = [
        staging(
            "staging_rental",
            Rental,
            [
                {**case, "inventory_id": case["rental_id"], "customer_id": 1, "staff_id": 1}
                for case in made
            ],
        ),
        staging(
            "staging_inventory",
            Inventory,
            [
                {"inventory_id": c["rental_id"], "film_id": c["rental_id"], "store_id": 1}
                for c in made
            ],
        ),
        staging(
            "staging_film",
            Film,
            [
                {**case, "film_id": case["rental_id"], "title": "A FILM", "language_id": 1}
                for case in made
            ],
        ),
        staging("staging_payment", Payment, []),
    ]
    for name, model in (("changed_rental", Rental), ("changed_payment", Payment)):
        tables.append(staging(name, model, []))
    tables += [
        staging("changed_inventory", Inventory, []),
        staging("changed_film", Film, []),
        ("run_clock", pa.table({"as_of": [AS_OF]}, schema=RUN_CLOCK)),
    ]
    stored = [
        {"rental_id": case["rental_id"], "is_returned": False, "late_fee": fee}
        for case in made
        for fee in [(stored_fees or {}).get(case["rental_id"])]
        if fee is not None
    ]
    schema = FACT_SALES.schema
    tables.append(
        (
            "mart_fact_sales",
            pa.Table.from_pylist(
                [{name: row.get(name) for name in schema.names} for row in stored], schema=schema
            ),
        )
    )
    for name, table in tables:
        con.register(name, table)
    return con


def test_the_lakes_fact_sales_prices_every_rental_as_the_rules_do():
    made = cases()
    con = lake_sql(made)
    con.register("fact_sales_keys", pa.table({"rental_id": [c["rental_id"] for c in made]}))
    rows = con.sql(FACT_SALES.sql).to_arrow_table().to_pylist()

    got = {
        row["rental_id"]: {
            key: row[key] for key in ("rental_id", "days_late", "late_fee", "charged")
        }
        for row in rows
    }
    assert got == {case["rental_id"]: expected(case) for case in made}
    assert any(row["late_fee"] == row["charged"] - Decimal("0.99") > 9 for row in got.values())


def test_the_lakes_keys_find_exactly_the_open_rentals_whose_fee_moved():
    made = [case for case in cases() if case["return_date"] is None]
    right = {case["rental_id"]: expected(case)["late_fee"] for case in made}
    moved = {rental_id for rental_id in right if rental_id % 3 == 0}
    stored = {r: fee + Decimal("1.00") if r in moved else fee for r, fee in right.items()}

    keys = lake_sql(made, stored_fees=stored).sql(FACT_SALES.keys_sql).fetchall()

    assert {rental_id for (rental_id,) in keys} == moved


def test_the_lakes_receivables_check_charges_as_the_rules_do():
    """The check that receivables equal the desk's balances computes those from
    the source with its own SQL: held to the rules too."""
    spec = next(
        check
        for check in tomllib.loads(FACT_SALES_CHECKS.read_text())["checks"]
        if check.get("name", "").startswith("receivables are the desk's balances")
    )
    made = cases()
    con = lake_sql(made)
    con.register(*staging("staging_customer", Customer, [{"customer_id": 1, "store_id": 1}]))

    (row,) = con.sql(spec["expected"]).to_arrow_table().to_pylist()

    assert row == {"store_id": 1, "value": sum(expected(case)["charged"] for case in made)}


@pytest.mark.django_db
def test_the_database_finds_late_exactly_the_rentals_the_rules_call_late():
    films = {duration: FilmFactory(rental_duration=duration) for duration in (3, 5, 7)}
    rng = random.Random(7)
    for n in range(120):
        film = films[rng.choice(list(films))]
        rented = AS_OF - timedelta(days=rng.randint(0, 12), minutes=rng.randint(0, 1439))
        returned = rng.choice([None, None, rented + timedelta(hours=rng.randint(1, 300))])
        RentalFactory(
            inventory=InventoryFactory(film=film),
            rental_date=rented.replace(second=n % 60),
            return_date=returned,
        )

    late_by_rules = {
        rental.pk
        for rental in Rental.objects.open().select_related("inventory__film")
        if pricing.days_late(
            rental_date=rental.rental_date,
            rental_duration=rental.inventory.film.rental_duration,
            until=AS_OF,
        )
        > 0
    }

    assert set(Rental.objects.overdue(as_of=AS_OF).values_list("pk", flat=True)) == late_by_rules
    assert 10 < len(late_by_rules) < Rental.objects.open().count()
