"""A small, consistent Sakila dataset in the CSV format, for loader tests."""

import csv
from pathlib import Path

T = "2006-02-15 04:34:33"

TABLES: dict[str, list[dict[str, str]]] = {
    "language": [{"language_id": "1", "name": "English", "last_update": T}],
    "country": [{"country_id": "1", "country": "Canada", "last_update": T}],
    "city": [{"city_id": "1", "city": "Lethbridge", "country_id": "1", "last_update": T}],
    "address": [
        {"address_id": str(n), "address": f"{n} MySakila Drive", "address2": "\\N",
         "district": " ", "city_id": "1", "postal_code": "\\N", "phone": " ", "last_update": T}
        for n in range(1, 6)
    ],
    "actor": [{"actor_id": "1", "first_name": "PENELOPE", "last_name": "GUINESS",
               "last_update": T}],
    "category": [{"category_id": "1", "name": "Action", "last_update": T}],
    "film": [
        {"film_id": "1", "title": "ACADEMY DINOSAUR", "description": "A Epic Drama, in \"quotes\"",
         "release_year": "2006", "language_id": "1", "original_language_id": "\\N",
         "rental_duration": "6", "rental_rate": "0.99", "length": "86",
         "replacement_cost": "20.99", "rating": "PG", "last_update": T,
         "special_features": "Deleted Scenes,Behind the Scenes"},
        {"film_id": "2", "title": "ACE GOLDFINGER", "description": "\\N",
         "release_year": "\\N", "language_id": "1", "original_language_id": "1",
         "rental_duration": "3", "rental_rate": "4.99", "length": "\\N",
         "replacement_cost": "12.99", "rating": "G", "last_update": T,
         "special_features": "\\N"},
    ],
    "film_actor": [{"actor_id": "1", "film_id": "1", "last_update": T}],
    "film_category": [{"film_id": "1", "category_id": "1", "last_update": T}],
    "film_text": [
        {"film_id": "1", "title": "ACADEMY DINOSAUR", "description": "A Epic Drama"},
        {"film_id": "2", "title": "ACE GOLDFINGER", "description": "\\N"},
    ],
    "staff": [
        {"staff_id": str(n), "first_name": name, "last_name": "Hillyer", "address_id": str(n + 2),
         "email": f"{name}@sakilastaff.com", "store_id": str(n), "active": "1",
         "username": name, "password": "8cb2237d0679ca88db6464eac60da96345513964",
         "last_update": T, "picture": "\\N"}
        for n, name in ((1, "Mike"), (2, "Jon"))
    ],
    "store": [
        {"store_id": str(n), "manager_staff_id": str(n), "address_id": str(n), "last_update": T}
        for n in (1, 2)
    ],
    "inventory": [
        {"inventory_id": "1", "film_id": "1", "store_id": "1", "last_update": T},
        {"inventory_id": "2", "film_id": "2", "store_id": "2", "last_update": T},
    ],
    "customer": [
        {"customer_id": "1", "store_id": "1", "first_name": "MARY", "last_name": "SMITH",
         "email": "MARY.SMITH@sakilacustomer.org", "address_id": "5", "active": "1",
         "create_date": "2006-02-14", "last_update": "2006-02-15 04:57:20"},
    ],
    "rental": [
        {"rental_id": "1", "rental_date": "2005-05-24 22:53:30", "inventory_id": "1",
         "customer_id": "1", "return_date": "2005-05-26 22:04:30", "staff_id": "1",
         "last_update": T},
        {"rental_id": "2", "rental_date": "2005-05-24 22:54:33", "inventory_id": "2",
         "customer_id": "1", "return_date": "\\N", "staff_id": "2", "last_update": T},
    ],
    "payment": [
        {"payment_id": "1", "customer_id": "1", "staff_id": "1", "rental_id": "1",
         "amount": "2.99", "payment_date": "2005-05-25 11:30:37", "last_update": T},
        {"payment_id": "2", "customer_id": "1", "staff_id": "2", "rental_id": "\\N",
         "amount": "0.99", "payment_date": "2005-05-28 10:35:23", "last_update": T},
    ],
}  # fmt: skip


def write_sakila_csvs(
    directory: Path, tables: dict[str, list[dict[str, str]]] | None = None
) -> Path:
    """Write one CSV per table (header from the first row's keys) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for table, rows in (tables or TABLES).items():
        with (directory / f"{table}.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
    return directory
