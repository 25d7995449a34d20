import copy
import csv
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from rentals import bulk
from rentals.loader import SakilaLoadError, load_sakila
from rentals.models import Address, Customer, Film, Payment, Rental, Staff
from tests.factories import CustomerFactory
from tests.rentals.sakila_csv import TABLES, write_sakila_csvs

pytestmark = pytest.mark.django_db

REAL_COUNTS = {
    "actor": 200, "address": 603, "category": 16, "city": 600, "country": 109, "customer": 599,
    "film": 1000, "film_actor": 5462, "film_category": 1000, "film_text": 1000,
    "inventory": 4581, "language": 6, "payment": 16049, "rental": 16044, "staff": 2, "store": 2,
}  # fmt: skip


def tables_with(**changes) -> dict[str, list[dict[str, str]]]:
    """A copy of the small dataset with ``table=(row index, column, value)`` changes."""
    tables = copy.deepcopy(TABLES)
    for table, (index, column, value) in changes.items():
        tables[table][index][column] = value
    return tables


def assert_database_empty() -> None:
    assert not any(bulk.sakila_row_counts().values())


def test_loads_every_table_with_its_values(tmp_path):
    report = load_sakila(write_sakila_csvs(tmp_path))

    assert report.rows["rental"] == 2 and report.total == 27
    film = Film.objects.get(pk=1)
    assert film.description == 'A Epic Drama, in "quotes"'
    assert film.special_features == ["Deleted Scenes", "Behind the Scenes"]
    assert film.rental_rate == Decimal("0.99")
    assert film.last_update == datetime(2006, 2, 15, 4, 34, 33)  # kept, not "now"
    other = Film.objects.get(pk=2)
    assert (other.description, other.release_year, other.length) == (None, None, None)
    assert other.special_features is None
    assert Address.objects.get(pk=1).district == " "  # a single space stays a space
    assert Customer.objects.get(pk=1).create_date == datetime(2006, 2, 14)
    assert Rental.objects.get(pk=2).return_date is None
    assert Payment.objects.get(pk=2).rental is None
    assert Staff.objects.get(pk=1).picture is None
    assert list(Film.objects.get(pk=1).actors.values_list("last_name", flat=True)) == ["GUINESS"]


def test_new_rows_get_ids_after_the_loaded_ones(tmp_path):
    load_sakila(write_sakila_csvs(tmp_path))
    rental = Rental.objects.create(
        rental_date=datetime(2006, 1, 1), inventory_id=1, customer_id=1, staff_id=1
    )
    customer = CustomerFactory(store_id=1)
    # Past the loaded ids (MySQL never hands back ids of rolled-back inserts, so
    # the next id may be higher than max + 1 there).
    assert rental.pk > 2
    assert customer.pk > 1


def test_refuses_a_database_that_holds_data(tmp_path):
    CustomerFactory()
    before = bulk.sakila_row_counts()
    with pytest.raises(
        bulk.SakilaDataExists, match="already holds Sakila data .*1 customer.*--replace"
    ):
        load_sakila(write_sakila_csvs(tmp_path))
    assert bulk.sakila_row_counts() == before


def test_replace_swaps_the_data(tmp_path):
    CustomerFactory(first_name="OLD")
    load_sakila(write_sakila_csvs(tmp_path), replace=True)
    assert list(Customer.objects.values_list("first_name", flat=True)) == ["MARY"]
    load_sakila(write_sakila_csvs(tmp_path), replace=True)
    assert Rental.objects.count() == 2


def test_bad_replacement_keeps_the_old_data(tmp_path):
    load_sakila(write_sakila_csvs(tmp_path / "good"))
    before = bulk.sakila_row_counts()
    bad = write_sakila_csvs(tmp_path / "bad", tables_with(payment=(1, "amount", "lots")))
    with pytest.raises(SakilaLoadError, match="payment.csv line 3, column amount"):
        load_sakila(bad, replace=True)
    assert bulk.sakila_row_counts() == before
    assert Customer.objects.get(pk=1).first_name == "MARY"


BAD_VALUES = [
    ("inventory", 0, "film_id", "abc", "inventory.csv line 2, column film_id: 'abc' is not a whole number"),
    ("payment", 0, "amount", "2.999", "payment.csv line 2, column amount: '2.999' has more than 2 decimal places"),
    ("payment", 0, "amount", "1000.00", "payment.csv line 2, column amount: '1000.00' does not fit DECIMAL(5,2)"),
    ("rental", 1, "rental_date", "2005-13-01 00:00:00", "rental.csv line 3, column rental_date: '2005-13-01 00:00:00' is not a timestamp"),
    ("customer", 0, "active", "yes", "customer.csv line 2, column active: 'yes' is not a boolean"),
    ("film", 0, "title", "\\N", "film.csv line 2, column title: NULL"),
    ("language", 0, "name", "A" * 21, "language.csv line 2, column name: 21 characters, at most 20"),
    ("film", 1, "rating", "X", "film.csv line 3, column rating: 'X' is not one of G, PG, PG-13, R, NC-17"),
    ("film", 0, "special_features", "Trailers,Bloopers", "film.csv line 2, column special_features: 'Bloopers' not one of"),
    ("film", 0, "rental_duration", "-1", "film.csv line 2, column rental_duration: -1 is below 0"),
    ("rental", 0, "inventory_id", "99", "rental.csv line 2, column inventory_id: no inventory row has inventory_id 99"),
    ("payment", 1, "rental_id", "7", "payment.csv line 3, column rental_id: no rental row has rental_id 7"),
    ("staff", 1, "store_id", "9", "staff.csv line 3, column store_id: no store row has store_id 9"),
    ("actor", 0, "actor_id", "0", "actor.csv line 2, column actor_id: 0 is below 1"),
    # What the official columns hold (issue 20): ranges, widths, money, NUL bytes.
    ("actor", 0, "actor_id", "9999999999", "actor.csv line 2, column actor_id: 9999999999 does not fit actor.actor_id (INT: 1 to 2,147,483,647)"),
    ("rental", 0, "inventory_id", "99999999999999999999", "rental.csv line 2, column inventory_id: 99999999999999999999 does not fit rental.inventory_id"),
    ("film", 0, "length", "70000", "film.csv line 2, column length: Ensure this value is less than or equal to 65535."),
    ("film", 0, "rental_duration", "256", "film.csv line 2, column rental_duration: Ensure this value is less than or equal to 255."),
    ("film", 0, "title", "T" * 129, "film.csv line 2, column title: 129 characters, at most 128 fit"),
    ("film", 0, "description", "é" * 40000, "film.csv line 2, column description: Ensure this value has at most 65535 bytes (it has 80000)"),
    ("film", 0, "rental_rate", "-0.99", "film.csv line 2, column rental_rate: Ensure this value is greater than or equal to 0.00."),
    ("payment", 0, "amount", "-2.99", "payment.csv line 2, column amount: Ensure this value is greater than or equal to 0.00."),
    ("actor", 0, "first_name", "PENE\x00LOPE", "actor.csv line 2, column first_name: contains a NUL byte"),
    ("film", 0, "release_year", "1900", "film.csv line 2, column release_year: Ensure this value is greater than or equal to 1901."),
]  # fmt: skip


@pytest.mark.parametrize(("table", "index", "column", "value", "message"), BAD_VALUES)
def test_a_bad_value_names_file_line_and_column_and_loads_nothing(
    tmp_path, table, index, column, value, message
):
    directory = write_sakila_csvs(tmp_path, tables_with(**{table: (index, column, value)}))
    with pytest.raises(SakilaLoadError) as error:
        load_sakila(directory)
    assert message in str(error.value)
    assert_database_empty()


def test_duplicate_primary_key(tmp_path):
    tables = copy.deepcopy(TABLES)
    tables["actor"].append(dict(tables["actor"][0], first_name="NICK"))
    with pytest.raises(
        SakilaLoadError, match="actor.csv line 3, column actor_id: duplicate actor_id=1"
    ):
        load_sakila(write_sakila_csvs(tmp_path, tables))
    assert_database_empty()


def test_duplicate_composite_key(tmp_path):
    tables = copy.deepcopy(TABLES)
    tables["film_actor"].append(dict(tables["film_actor"][0]))
    with pytest.raises(
        SakilaLoadError, match="film_actor.csv line 3.*duplicate actor_id=1, film_id=1"
    ):
        load_sakila(write_sakila_csvs(tmp_path, tables))


def test_duplicate_rental_date_inventory_customer(tmp_path):
    tables = copy.deepcopy(TABLES)
    tables["rental"].append(dict(tables["rental"][0], rental_id="3"))
    with pytest.raises(SakilaLoadError, match="rental.csv line 4, column rental_date: duplicate"):
        load_sakila(write_sakila_csvs(tmp_path, tables))
    assert_database_empty()


def test_two_stores_with_one_manager(tmp_path):
    tables = tables_with(store=(1, "manager_staff_id", "1"))
    with pytest.raises(
        SakilaLoadError, match="store.csv line 3, column manager_staff_id: duplicate"
    ):
        load_sakila(write_sakila_csvs(tmp_path, tables))


def test_unknown_column(tmp_path):
    tables = copy.deepcopy(TABLES)
    tables["actor"][0]["nickname"] = "PENNY"
    with pytest.raises(
        SakilaLoadError, match="actor.csv line 1, column 5: unknown column 'nickname'"
    ):
        load_sakila(write_sakila_csvs(tmp_path, tables))
    assert_database_empty()


def test_missing_column(tmp_path):
    tables = copy.deepcopy(TABLES)
    for row in tables["address"]:
        del row["phone"]
    with pytest.raises(SakilaLoadError, match="address.csv line 1: missing column phone"):
        load_sakila(write_sakila_csvs(tmp_path, tables))
    assert_database_empty()


def test_missing_file(tmp_path):
    directory = write_sakila_csvs(tmp_path)
    (directory / "rental.csv").unlink()
    with pytest.raises(SakilaLoadError, match="rental.csv: file is missing"):
        load_sakila(directory)
    assert_database_empty()


def test_missing_directory(tmp_path):
    with pytest.raises(SakilaLoadError, match="is not a directory"):
        load_sakila(tmp_path / "nowhere")


def test_row_with_the_wrong_number_of_fields(tmp_path):
    directory = write_sakila_csvs(tmp_path)
    with (directory / "category.csv").open("a") as handle:
        handle.write("2,Animation\n")
    with pytest.raises(SakilaLoadError, match="category.csv line 3: 2 fields, the header has 3"):
        load_sakila(directory)
    assert_database_empty()


def test_empty_file(tmp_path):
    directory = write_sakila_csvs(tmp_path)
    (directory / "country.csv").write_text("")
    with pytest.raises(SakilaLoadError, match="country.csv line 1: no header row"):
        load_sakila(directory)


def test_not_utf8(tmp_path):
    directory = write_sakila_csvs(tmp_path)
    (directory / "city.csv").write_bytes(b"city_id,city,country_id,last_update\n1,S\xe3o,1,\\N\n")
    with pytest.raises(SakilaLoadError, match="city.csv: not UTF-8"):
        load_sakila(directory)
    assert_database_empty()


def test_command_reports_the_error_and_loads_nothing(tmp_path):
    directory = write_sakila_csvs(tmp_path, tables_with(rental=(0, "customer_id", "42")))
    with pytest.raises(CommandError) as error:
        call_command("load_sakila", str(directory))
    assert str(error.value) == (
        "Nothing was loaded. rental.csv line 2, column customer_id: "
        "no customer row has customer_id 42"
    )
    assert_database_empty()


def test_command_prints_rows_per_table(tmp_path, capsys):
    call_command("load_sakila", str(write_sakila_csvs(tmp_path)))
    out = capsys.readouterr().out
    assert "rental:         2 rows" in out
    assert "Loaded 27 rows" in out


def csv_payment_total(directory: Path) -> Decimal:
    with (directory / "payment.csv").open(newline="") as handle:
        return sum((Decimal(row["amount"]) for row in csv.DictReader(handle)), Decimal(0))


@pytest.mark.slow
def test_real_sakila_data_loads_exactly(real_sakila_dir):
    report = load_sakila(real_sakila_dir)

    assert report.rows == REAL_COUNTS
    assert bulk.sakila_row_counts() == REAL_COUNTS
    amounts = list(Payment.objects.values_list("amount", flat=True))
    assert sum(amounts, Decimal(0)) == csv_payment_total(real_sakila_dir) == Decimal("67416.51")
    assert Rental.objects.filter(return_date__isnull=True).count() == 183


def test_command_refuses_a_database_that_holds_data(tmp_path):
    CustomerFactory()
    with pytest.raises(CommandError, match="Nothing was loaded. The database already holds"):
        call_command("load_sakila", str(write_sakila_csvs(tmp_path)))
    assert Customer.objects.count() == 1


def test_a_byte_order_mark_is_accepted(tmp_path):
    directory = write_sakila_csvs(tmp_path)
    for name in ("language.csv", "payment.csv"):
        path = directory / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())  # as Excel saves UTF-8
    report = load_sakila(directory)
    assert report.rows["language"] == len(TABLES["language"])
    assert report.rows["payment"] == len(TABLES["payment"])


def test_command_names_file_line_and_column_of_an_id_out_of_range(tmp_path):
    directory = write_sakila_csvs(tmp_path, tables_with(actor=(0, "actor_id", "4294967296")))
    with pytest.raises(CommandError) as error:
        call_command("load_sakila", str(directory))
    assert str(error.value).startswith("Nothing was loaded. actor.csv line 2, column actor_id:")
    assert_database_empty()
