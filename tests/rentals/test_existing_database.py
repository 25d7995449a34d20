"""An existing Sakila database (MySQL's own schema) works after migrate --fake-initial."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

from tests.conftest import only_on_mysql

pytestmark = [only_on_mysql, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"

SAMPLE_ROWS = """
INSERT INTO language VALUES (1, 'English', '2006-02-15 05:02:19');
INSERT INTO country VALUES (1, 'Canada', '2006-02-15 04:44:00');
INSERT INTO city VALUES (1, 'Lethbridge', 1, '2006-02-15 04:45:25');
INSERT INTO address VALUES (1, '47 MySakila Drive', NULL, 'Alberta', 1, '', '', '2006-02-15 04:45:30'),
  (2, '23 Workhaven Lane', NULL, 'Alberta', 1, '', '14033335568', '2006-02-15 04:45:30');
INSERT INTO staff VALUES (1, 'Mike', 'Hillyer', 2, NULL, 'Mike.Hillyer@sakilastaff.com', 1, 1,
  'Mike', '8cb2237d0679ca88db6464eac60da96345513964', '2006-02-15 03:57:16');
INSERT INTO store VALUES (1, 1, 1, '2006-02-15 04:57:12');
INSERT INTO actor VALUES (1, 'PENELOPE', 'GUINESS', '2006-02-15 04:34:33');
INSERT INTO category VALUES (1, 'Action', '2006-02-15 04:46:27');
INSERT INTO film VALUES (1, 'ACADEMY DINOSAUR', 'A Epic Drama', 2006, 1, NULL, 6, 0.99, 86,
  20.99, 'PG-13', 'Deleted Scenes,Trailers', '2006-02-15 05:03:42');
INSERT INTO film_actor VALUES (1, 1, '2006-02-15 05:05:03');
INSERT INTO film_category VALUES (1, 1, '2006-02-15 05:07:09');
INSERT INTO film_text VALUES (1, 'ACADEMY DINOSAUR', 'A Epic Drama');
INSERT INTO inventory VALUES (1, 1, 1, '2006-02-15 05:09:17');
INSERT INTO customer VALUES (1, 1, 'MARY', 'SMITH', 'MARY.SMITH@sakilacustomer.org', 1, 1,
  '2006-02-14 22:04:36', '2006-02-15 04:57:20');
INSERT INTO rental VALUES (1, '2005-05-24 22:53:30', 1, 1, '2005-05-26 22:04:30', 1,
  '2006-02-15 21:30:53');
INSERT INTO payment VALUES (1, 1, 1, 1, 2.99, '2005-05-25 11:30:37', '2006-02-15 22:12:30');
"""


def statements(sql: str) -> list[str]:
    return [statement for statement in sql.split(";\n") if statement.strip(" \n")]


@pytest.fixture
def existing_sakila_url():
    """A database created by MySQL's Sakila DDL, with a few rows; dropped afterwards."""
    import MySQLdb

    db = settings.DATABASES["default"]
    name = f"sakila_existing_{os.getpid()}"
    connection = MySQLdb.connect(
        host=db["HOST"] or "127.0.0.1", port=int(db["PORT"] or 3306),
        user=db["USER"], password=db["PASSWORD"] or "",
    )  # fmt: skip
    cursor = connection.cursor()
    cursor.execute(f"DROP DATABASE IF EXISTS {name}")
    cursor.execute(f"CREATE DATABASE {name} CHARACTER SET utf8mb4")
    cursor.execute(f"USE {name}")
    cursor.execute("SET FOREIGN_KEY_CHECKS = 0")
    for statement in statements((DATA / "mysql_sakila_tables.sql").read_text()):
        cursor.execute(statement)
    for statement in statements(SAMPLE_ROWS):
        cursor.execute(statement)
    connection.commit()
    credentials = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    try:
        yield f"mysql://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 3306}/{name}"
    finally:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        connection.close()


def run(
    args: list[str], database_url: str, more: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        **(more or {}),
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "sakila_site.settings",
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def test_existing_sakila_database_works_after_fake_initial(existing_sakila_url):
    migrate = run(["manage.py", "migrate", "--fake-initial", "--no-input"], existing_sakila_url)
    assert migrate.returncode == 0, migrate.stderr
    assert "rentals.0001_initial... FAKED" in migrate.stdout
    assert "rentals.0002_last_update_indexes... OK" in migrate.stdout

    checks = run([str(DATA / "existing_database_checks.py")], existing_sakila_url)
    assert checks.returncode == 0, checks.stderr
    assert checks.stdout.strip() == "ok"


def test_the_lake_runs_and_every_check_passes_on_an_existing_sakila_database(
    existing_sakila_url, tmp_path
):
    assert run(["manage.py", "migrate", "--fake-initial", "--no-input"], existing_sakila_url)
    lake = {"LAKE_WAREHOUSE": str(tmp_path / "lake"), "SAKILA_VAR_DIR": str(tmp_path)}
    lake["LAKE_CATALOG_URI"] = f"sqlite:///{tmp_path / 'catalog.sqlite3'}"

    ran = run(["manage.py", "lake", "run"], existing_sakila_url, lake)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    checks = run(["manage.py", "lake", "checks"], existing_sakila_url, lake)
    assert checks.returncode == 0, checks.stdout + checks.stderr
    assert "failed" not in checks.stdout and "passed  error fact_sales" in checks.stdout


def column_types(cursor, database: str) -> dict[tuple[str, str], str]:
    cursor.execute(
        "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS "
        "WHERE TABLE_SCHEMA = %s AND DATA_TYPE LIKE '%%int'",
        [database],
    )
    return {(table, column): kind for table, column, kind in cursor.fetchall()}


def foreign_keys(cursor, database: str) -> set[tuple]:
    cursor.execute(
        "SELECT k.CONSTRAINT_NAME, k.TABLE_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, "
        "r.DELETE_RULE, r.UPDATE_RULE FROM information_schema.KEY_COLUMN_USAGE k "
        "JOIN information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = "
        "k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME "
        "WHERE k.TABLE_SCHEMA = %s AND k.REFERENCED_TABLE_NAME IS NOT NULL",
        [database],
    )
    return set(cursor.fetchall())


def test_narrow_ids_run_out_clearly_and_widen_ids_widens_them(existing_sakila_url):
    import MySQLdb

    database = existing_sakila_url.rsplit("/", 1)[1]
    db = settings.DATABASES["default"]
    connection = MySQLdb.connect(
        host=db["HOST"] or "127.0.0.1", port=int(db["PORT"] or 3306),
        user=db["USER"], password=db["PASSWORD"] or "", database=database, autocommit=True,
    )  # fmt: skip
    cursor = connection.cursor()
    migrate = run(["manage.py", "migrate", "--fake-initial", "--no-input"], existing_sakila_url)
    assert migrate.returncode == 0, migrate.stderr
    cursor.execute(
        "INSERT INTO payment VALUES (65535, 1, 1, NULL, 1.00, '2005-06-01 10:00:00', NULL)"
    )
    before = run([str(DATA / "narrow_ids_checks.py"), "before"], existing_sakila_url)
    assert (before.returncode, before.stdout.strip()) == (0, "ok"), before.stderr

    types, keys = column_types(cursor, database), foreign_keys(cursor, database)
    dry = run(["manage.py", "widen_ids", "--dry-run"], existing_sakila_url)
    assert dry.returncode == 0, dry.stderr
    assert "payment.payment_id: SMALLINT UNSIGNED -> INT UNSIGNED" in dry.stdout
    assert "store.manager_staff_id: TINYINT UNSIGNED -> INT UNSIGNED" in dry.stdout
    assert "foreign key fk_payment_customer (payment.customer_id -> customer.customer_id)" in (
        dry.stdout
    )
    assert column_types(cursor, database) == types

    widen = run(["manage.py", "widen_ids"], existing_sakila_url)
    assert widen.returncode == 0, widen.stderr
    widened = column_types(cursor, database)
    narrow = {key for key, kind in types.items() if kind.startswith(("tiny", "small", "medium"))}
    ids = {key for key in narrow if key[1].endswith("_id")}
    assert ids and {widened[key] for key in ids} == {"int(10) unsigned"}
    assert widened[("film", "rental_duration")] == types[("film", "rental_duration")]
    assert widened[("rental", "rental_id")] == types[("rental", "rental_id")]  # INT already
    assert foreign_keys(cursor, database) == keys  # every key back, rules kept

    after = run([str(DATA / "narrow_ids_checks.py"), "after"], existing_sakila_url)
    assert (after.returncode, after.stdout.strip()) == (0, "ok"), after.stderr
    again = run(["manage.py", "widen_ids"], existing_sakila_url)
    assert "Nothing to widen: every id is INT or wider." in again.stdout
    connection.close()
