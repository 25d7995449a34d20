"""Generate a Sakila-shaped database, deterministically for a seed.

Scale 1 has the real Sakila row counts. Scale N multiplies customers (and
their addresses), inventory, rentals and payments by N; films, actors, stores,
staff and the reference tables stay as they are.

Rentals are simulated day by day over Sakila's period (2005-05-24 to
2006-02-14), or over a period as long ending on a given day (``end``: the
demo ends today, so "overdue" means something), more on weekends and in
summer. A copy is never rented while it is out; most come back on time, some
late, a few very late (their fee stops at the replacement cost), a few are
never returned, and those still out at the end of the period have no return
date. Payments follow the rules of ``rentals.services``: the rate is paid at
the counter when renting; most customers pay a late fee when they return
the copy, some pay part of it and some leave it owed on their account; a few
pay something on account. Rows are produced by generators and written in
batches (rentals and their payments side by side), so memory stays bounded
at any scale.
"""

import hashlib
import math
import random
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from rentals import bulk
from rentals.generator_words import (
    ADJECTIVES,
    CATEGORIES,
    CHARACTERS,
    FIRST_NAMES,
    GENRES,
    LANGUAGES,
    LAST_NAMES,
    PLACES,
    STREETS,
    SYLLABLES,
    TITLE_WORDS,
    VERBS,
)
from rentals.models import (
    Actor,
    Address,
    Category,
    City,
    Country,
    Customer,
    Film,
    FilmActor,
    FilmCategory,
    FilmText,
    Inventory,
    Language,
    Payment,
    Rental,
    Staff,
    Store,
)
from rentals.pricing import late_fee

ERROR_SCALE = "scale must be a number above 0, not {scale}"

PERIOD_START = date(2005, 5, 24)
PERIOD_END = datetime(2006, 2, 14, 23, 59, 59)  # later returns are still out
STORES = 2
NULL_RENTAL_PAYMENTS = 5  # payments on account, per scale unit, as in the real data
# What customers do with a late fee at the return (the rest leave it owed).
FEE_PAID_SHARE = 0.75
FEE_PART_PAID_SHARE = 0.10
NEVER_RETURNED_SHARE = 0.002  # copies kept for good (their fee stops at the cap)

# Real Sakila row counts (scale 1).
BASE_COUNTS = {
    "language": 6,
    "country": 109,
    "city": 600,
    "actor": 200,
    "category": 16,
    "film": 1000,
    "film_actor": 5462,
    "customer": 599,
    "inventory": 4581,
    "rental": 16044,
    "payment": 16049,
}
FILMS_WITHOUT_COPIES = 42  # as in the real data

FEATURES = list(Film.SPECIAL_FEATURES)
RATINGS = [choice for choice, _ in Film.Rating.choices]


@dataclass(frozen=True)
class GenerationReport:
    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def scaled_counts(scale: float) -> dict[str, int]:
    """Row counts per table at ``scale`` (customers, copies, rentals, payments grow).

    ``payment`` is Sakila's count, a target only: payments follow the money
    rules (a rate payment per rental, late fees paid or not at return), so
    there are about 10% more.
    """
    counts = dict(BASE_COUNTS)
    for table in ("customer", "inventory", "rental", "payment"):
        counts[table] = max(1, round(BASE_COUNTS[table] * scale))
    counts["null_rental_payments"] = max(1, round(NULL_RENTAL_PAYMENTS * scale))
    return counts


def generate_sakila(
    *,
    scale: float = 1,
    seed: int = 1,
    replace: bool = False,
    progress=None,
    end: date | None = None,
) -> GenerationReport:
    """Write a generated Sakila database, in one transaction. ``end``: the last
    day of the period (None: Sakila's own, ending 2006-02-14)."""
    if not (isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0):
        raise ValueError(ERROR_SCALE.format(scale=scale))
    generator = SakilaGenerator(scaled_counts(scale), seed=seed, end=end)
    rows: dict[str, int] = {}
    with transaction.atomic(), bulk.foreign_key_checks_deferred():
        bulk.empty_sakila_tables(replace=replace)
        for model, table_rows in generator.tables():
            rows[model._meta.db_table] = bulk.insert_rows(model, None, table_rows)
            if progress:
                progress(model._meta.db_table, rows[model._meta.db_table])
        # Rentals and their payments are written side by side to bound memory.
        rental_writer, payment_writer = bulk.BatchWriter(Rental), bulk.BatchWriter(Payment)
        for rental, payments in generator.rentals():
            rental_writer.add(rental)
            for payment in payments:
                payment_writer.add(payment)
        for payment in generator.payments_without_rental():
            payment_writer.add(payment)
        for writer, model in ((rental_writer, Rental), (payment_writer, Payment)):
            writer.flush()
            rows[model._meta.db_table] = writer.count
            if progress:
                progress(model._meta.db_table, writer.count)
        bulk.reset_sequences()
    bulk.refresh_statistics()
    return GenerationReport(rows)


class SakilaGenerator:
    """Produces the rows of every table, in load order, from one seeded RNG."""

    def __init__(self, counts: dict[str, int], *, seed: int, end: date | None = None) -> None:
        self.counts = counts
        self.random = random.Random(seed)
        self.now = timezone.now().replace(microsecond=0)
        if end is None:
            self.period_start, self.period_end = PERIOD_START, PERIOD_END
        else:
            # As long as Sakila's period, ending on ``end`` (and never after now).
            self.period_end = min(datetime.combine(end, datetime.max.time()), self.now)
            self.period_end = self.period_end.replace(microsecond=0)
            self.period_start = self.period_end.date() - (PERIOD_END.date() - PERIOD_START)
        self.films: list[tuple[int, Decimal, Decimal]] = []  # (duration, rate, replacement)

    def tables(self) -> Iterator[tuple[type, Iterator[tuple]]]:
        """(model, rows) for every table up to customer; rentals and payments
        come from ``rentals`` and ``payments_without_rental``."""
        yield Language, self.languages()
        yield Country, self.countries()
        yield City, self.cities()
        yield Address, self.addresses()
        yield Actor, self.actors()
        yield Category, self.categories()
        film_rows = list(self.film_rows())
        yield Film, iter(film_rows)
        yield FilmActor, self.film_actors()
        yield FilmCategory, self.film_categories()
        yield (
            FilmText,
            ((film_id, title, description) for film_id, title, description, *_ in film_rows),
        )
        yield Staff, self.staff()
        yield Store, self.stores()
        yield Inventory, self.inventory()
        yield Customer, self.customers()

    # Reference data -------------------------------------------------------

    def languages(self) -> Iterator[tuple]:
        for language_id, name in enumerate(LANGUAGES, start=1):
            yield language_id, name, self.now

    def place_name(self, words: int = 2) -> str:
        return "".join(self.random.choice(SYLLABLES) for _ in range(words + 1)).capitalize()

    def countries(self) -> Iterator[tuple]:
        names = self.unique_names(self.counts["country"], lambda: self.place_name(2) + "ia")
        for country_id, name in enumerate(names, start=1):
            yield country_id, name, self.now

    def cities(self) -> Iterator[tuple]:
        names = self.unique_names(
            self.counts["city"], lambda: self.place_name(self.random.randint(1, 3))
        )
        for city_id, name in enumerate(names, start=1):
            country_id = (city_id - 1) % self.counts["country"] + 1
            yield city_id, name, country_id, self.now

    def unique_names(self, count: int, make) -> list[str]:
        names: list[str] = []
        seen: set[str] = set()
        while len(names) < count:
            name = make()
            if name not in seen:
                seen.add(name)
                names.append(name)
        return names

    def addresses(self) -> Iterator[tuple]:
        """Two store addresses, two staff addresses, then one per customer."""
        rand = self.random
        for address_id in range(1, self.counts["customer"] + 2 * STORES + 1):
            street = f"{rand.randint(1, 1999)} {self.place_name(1)} {rand.choice(STREETS)}"
            yield (
                address_id,
                street[:50],
                None,
                self.place_name(1)[:20],
                rand.randint(1, self.counts["city"]),
                f"{rand.randint(10000, 99999)}",
                f"{rand.randint(10**9, 10**12 - 1)}",
                self.now,
            )

    def actors(self) -> Iterator[tuple]:
        for actor_id in range(1, self.counts["actor"] + 1):
            first, last = self.random.choice(FIRST_NAMES), self.random.choice(LAST_NAMES)
            yield actor_id, first, last, self.now

    def categories(self) -> Iterator[tuple]:
        for category_id, name in enumerate(CATEGORIES, start=1):
            yield category_id, name, self.now

    def film_rows(self) -> Iterator[tuple]:
        rand = self.random
        titles = self.unique_names(
            self.counts["film"], lambda: f"{rand.choice(TITLE_WORDS)} {rand.choice(TITLE_WORDS)}"
        )
        for film_id, title in enumerate(titles, start=1):
            description = (
                f"A {rand.choice(ADJECTIVES)} {rand.choice(GENRES)} of a {rand.choice(CHARACTERS)} "
                f"And a {rand.choice(CHARACTERS)} who must {rand.choice(VERBS)} a "
                f"{rand.choice(CHARACTERS)} in {rand.choice(PLACES)}"
            )
            duration = rand.randint(3, 7)
            rate = Decimal(rand.choice(["0.99", "2.99", "4.99"]))
            replacement = Decimal(rand.randint(9, 29)) + Decimal("0.99")
            features = [f for f in FEATURES if rand.random() < 0.5] or [rand.choice(FEATURES)]
            self.films.append((duration, rate, replacement))
            yield (
                film_id, title, description, 2006, 1, None, duration, rate,
                rand.randint(46, 185), replacement, rand.choice(RATINGS), ",".join(features),
                self.now,
            )  # fmt: skip

    def film_actors(self) -> Iterator[tuple]:
        """Exactly ``film_actor`` pairs: about five actors a film, one to ten."""
        rand = self.random
        films, actors = self.counts["film"], self.counts["actor"]
        per_film = [1] * films
        for _ in range(self.counts["film_actor"] - films):
            film = rand.randrange(films)
            while per_film[film] >= 10:
                film = rand.randrange(films)
            per_film[film] += 1
        for film_index, count in enumerate(per_film):
            for actor_id in sorted(rand.sample(range(1, actors + 1), count)):
                yield actor_id, film_index + 1, self.now

    def film_categories(self) -> Iterator[tuple]:
        for film_id in range(1, self.counts["film"] + 1):
            yield film_id, self.random.randint(1, len(CATEGORIES)), self.now

    def staff(self) -> Iterator[tuple]:
        for staff_id in range(1, STORES + 1):
            first, last = (
                self.random.choice(FIRST_NAMES).title(),
                self.random.choice(LAST_NAMES).title(),
            )
            yield (
                staff_id, first, last, STORES + staff_id, None,
                f"{first}.{last}@sakilastaff.com", staff_id, True, first[:16],
                hashlib.sha1(f"{first}{staff_id}".encode()).hexdigest(), self.now,
            )  # fmt: skip

    def stores(self) -> Iterator[tuple]:
        for store_id in range(1, STORES + 1):
            yield store_id, store_id, store_id, self.now

    # Data that grows with the scale ----------------------------------------

    def inventory(self) -> Iterator[tuple]:
        """Copies spread over the stocked films and both stores, grouped by film."""
        rand = self.random
        films = self.counts["film"]
        unstocked = set(rand.sample(range(1, films + 1), min(FILMS_WITHOUT_COPIES, films - 1)))
        stocked = [film_id for film_id in range(1, films + 1) if film_id not in unstocked]
        popularity = [rand.uniform(0.3, 1.7) for _ in stocked]
        picks = rand.choices(range(len(stocked)), popularity, k=self.counts["inventory"])
        slots = sorted((stocked[pick], rand.randint(1, STORES)) for pick in picks)
        # Kept compactly: the rental simulation needs each copy's film and store.
        self.copy_film = array("i", (film for film, _ in slots))
        self.copy_store = array("b", (store for _, store in slots))
        for inventory_id, (film_id, store_id) in enumerate(slots, start=1):
            yield inventory_id, film_id, store_id, self.now

    def customers(self) -> Iterator[tuple]:
        rand = self.random
        self.active_customers = array("i")
        start = datetime.combine(self.period_start, datetime.min.time())
        for customer_id in range(1, self.counts["customer"] + 1):
            first, last = rand.choice(FIRST_NAMES), rand.choice(LAST_NAMES)
            active = rand.random() >= 0.025
            if active:
                self.active_customers.append(customer_id)
            created = start - timedelta(days=rand.randint(1, 400), seconds=rand.randint(0, 86399))
            yield (
                customer_id, rand.randint(1, STORES), first, last,
                f"{first}.{last}@sakilacustomer.org", 2 * STORES + customer_id, active, created,
                self.now,
            )  # fmt: skip
        if not self.active_customers:
            raise ValueError("scale too small: no active customer to rent to")

    def rental_days(self) -> list[tuple[date, int]]:
        """(day, rentals that day): all rentals spread over the period, more on
        weekends and in summer, exactly ``rental`` in all."""
        days = [
            self.period_start + timedelta(days=offset)
            for offset in range((self.period_end.date() - self.period_start).days + 1)
        ]
        weights = [
            (1.45 if day.weekday() >= 5 else 1.0) * (1.3 if day.month in (6, 7, 8) else 1.0)
            for day in days
        ]
        total, target = sum(weights), self.counts["rental"]
        exact = [weight * target / total for weight in weights]
        counts = [math.floor(value) for value in exact]
        by_remainder = sorted(range(len(days)), key=lambda i: exact[i] - counts[i], reverse=True)
        for index in by_remainder[: target - sum(counts)]:
            counts[index] += 1
        return list(zip(days, counts, strict=True))

    def rentals(self) -> Iterator[tuple[tuple, list[tuple]]]:
        """(rental row, its payment rows), in date order."""
        rand = self.random
        copies = len(self.copy_film)
        free_at = [datetime.min] * copies
        self.payment_id = rental_id = 0
        for day, count in self.rental_days():
            opening = datetime.combine(day, datetime.min.time()) + timedelta(hours=8)
            # The period's last day may end now: that day's rentals happen before.
            opening = max(
                min(opening, self.period_end - timedelta(hours=15)),
                datetime.combine(day, datetime.min.time()),
            )
            span = max(1, min(15 * 3600, int((self.period_end - opening).total_seconds())))
            for seconds in sorted(rand.randrange(span) for _ in range(count)):
                rental_date = opening + timedelta(seconds=seconds)
                copy = rand.randrange(copies)
                for _ in range(100):  # few copies are out at once: this rarely loops
                    if free_at[copy] <= rental_date:
                        break
                    copy = rand.randrange(copies)
                else:
                    continue  # every copy tried is out: no rental then
                rental_id += 1
                duration, rate, replacement = self.films[self.copy_film[copy] - 1]
                return_date = self.return_date(rental_date, duration)
                free_at[copy] = return_date or datetime.max
                customer_id = rand.choice(self.active_customers)
                staff_id = self.copy_store[copy]
                rental = (
                    rental_id,
                    rental_date,
                    copy + 1,
                    customer_id,
                    return_date,
                    staff_id,
                    self.now,
                )
                payments = []
                for amount, paid_at in self.payment_amounts(
                    rate, duration, replacement, rental_date, return_date
                ):
                    self.payment_id += 1
                    payments.append(
                        (
                            self.payment_id,
                            customer_id,
                            staff_id,
                            rental_id,
                            amount,
                            paid_at,
                            self.now,
                        )
                    )
                yield rental, payments

    def return_date(self, rental_date: datetime, duration: int) -> datetime | None:
        """Most come back in time, about one in eight late, one in a hundred very
        late, a few never."""
        rand = self.random
        roll = rand.random()
        if roll < NEVER_RETURNED_SHARE:
            return None
        if roll < 0.01:
            days = rand.randint(2 * duration + 1, 3 * duration)
        elif roll < 0.13:
            days = duration + rand.randint(1, 3)
        else:
            days = rand.randint(1, duration)
        back = datetime.combine(rental_date.date() + timedelta(days=days), datetime.min.time())
        back += timedelta(seconds=rand.randrange(8 * 3600, 23 * 3600))
        return back if back <= self.period_end else None

    def payment_amounts(
        self, rate: Decimal, duration: int, replacement: Decimal, rental_date: datetime,
        return_date: datetime | None,
    ) -> list[tuple[Decimal, datetime]]:  # fmt: skip
        """(amount, date) of each payment of one rental: the rate at the counter
        when renting; at a late return most pay the fee, some part of it, the
        rest leave it owed."""
        paid = [(rate, rental_date)]
        if return_date is None:
            return paid
        fee = late_fee(
            rental_duration=duration, replacement_cost=replacement,
            rental_date=rental_date, until=return_date,
        )  # fmt: skip
        if not fee:
            return paid
        roll = self.random.random()
        if roll < FEE_PAID_SHARE:
            paid.append((fee, return_date))
        elif roll < FEE_PAID_SHARE + FEE_PART_PAID_SHARE:
            paid.append(((fee / 2).quantize(Decimal("0.01")), return_date))
        return paid

    def payments_without_rental(self) -> Iterator[tuple]:
        """Payments with no rental (as in the real data), up to the target count."""
        rand = self.random
        start = datetime.combine(self.period_start, datetime.min.time())
        span = int((self.period_end - start).total_seconds())
        for _ in range(self.counts["null_rental_payments"]):
            self.payment_id += 1
            paid_at = start + timedelta(seconds=rand.randrange(span))
            amount = Decimal(rand.randint(0, 11)) + Decimal("0.99")
            yield (
                self.payment_id, rand.choice(self.active_customers), rand.randint(1, STORES), None,
                amount, paid_at, self.now,
            )  # fmt: skip
