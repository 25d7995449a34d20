"""States a test builds (rows in the database, a lake on disk), built once per session.

Many tests start the same way: generate the same data, run the pipeline once
or a few times, and only then do what they check. The first test to ask for
a state builds it as it always did, in its own database and lake, and a copy
of both is kept; every later test that asks for it gets that copy back: the
database's rows restored and the lake's files copied, the same bytes the
build left, in a fraction of the time a pipeline run takes. Each test still
gets a state of its own to change as it likes.

A lake's files name each other by absolute path (Iceberg's metadata), so a
copy is only valid at the path it was built at: the warehouse of every test
on one worker is the same directory (see tests/lake/conftest.py's ``lake``),
emptied for each test. The Iceberg catalog, a SQLite file of its own, is
copied like the database.

The database copy: SQLite's backup API (the whole file, sequences included),
or on MySQL a database per state holding a copy of each table.
"""

import hashlib
import json
import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from django.db import connection, transaction

# Rows a test may have made before asking for a state, which a restore would take
# away without a word: ask for the state first (see ``BuiltStates.restore_or_build``).
GUARDED_TABLES = ("auth_user", "store", "customer", "film", "rental", "payment",
                  "lake_pipelinerun")  # fmt: skip


class BuiltStates:
    """The states built so far in this session (one per xdist worker), under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.values: dict[str, Any] = {}
        self.mysql_databases: list[str] = []

    def restore_or_build(
        self, key: tuple, build: Callable[[], Any], *, warehouse: Path, catalog: Path
    ) -> Any:
        """``build()``'s value, after building the state or restoring its copy.

        ``key`` names the state fully (the function that builds it and its
        arguments); ``build`` makes it in the test's database (committed: the
        test must be ``transaction=True``), warehouse and catalog, and returns
        plain values (ids, not model instances), which are kept as JSON.
        """
        if connection.in_atomic_block:
            raise RuntimeError("a built state needs @pytest.mark.django_db(transaction=True)")
        name = hashlib.sha256(
            repr((build.__module__, build.__qualname__, key)).encode()
        ).hexdigest()[:16]
        self._check_nothing_made_yet(key)
        if name not in self.values:
            value = json.loads(json.dumps(build()))
            self._save(name, warehouse, catalog)
            self.values[name] = value
            return value
        self._restore(name, warehouse, catalog)
        return self.values[name]

    def drop(self) -> None:
        """Drop the MySQL copies (the files stay in pytest's temporary directory)."""
        if self.mysql_databases:
            with connection.cursor() as cursor:
                for database in self.mysql_databases:
                    cursor.execute(f"DROP DATABASE IF EXISTS `{database}`")

    # --- Copies -------------------------------------------------------------------------

    def _save(self, name: str, warehouse: Path, catalog: Path) -> None:
        saved = self.root / name
        shutil.rmtree(saved, ignore_errors=True)
        saved.mkdir(parents=True)
        if warehouse.exists():
            shutil.copytree(warehouse, saved / "warehouse", symlinks=True)
        if catalog.exists():
            _sqlite_copy(catalog, saved / "catalog.sqlite3")
        if connection.vendor == "sqlite":
            connection.ensure_connection()
            with closing(sqlite3.connect(saved / "database.sqlite3")) as target:
                connection.connection.backup(target)
        else:
            self._mysql_save(self._mysql_database(name))

    def _restore(self, name: str, warehouse: Path, catalog: Path) -> None:
        saved = self.root / name
        shutil.rmtree(warehouse, ignore_errors=True)
        if (saved / "warehouse").exists():
            shutil.copytree(saved / "warehouse", warehouse, symlinks=True)
        if (saved / "catalog.sqlite3").exists():
            _sqlite_copy(saved / "catalog.sqlite3", catalog)
        if connection.vendor == "sqlite":
            connection.ensure_connection()
            with closing(sqlite3.connect(saved / "database.sqlite3")) as source:
                source.backup(connection.connection)
        else:
            self._mysql_restore(self._mysql_database(name))

    def _mysql_database(self, name: str) -> str:
        return f"{connection.settings_dict['NAME']}_{name}"[:64]

    def _mysql_save(self, database: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{database}`")
            cursor.execute(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4")
            self.mysql_databases.append(database)
            for table in _tables(cursor):
                cursor.execute(f"CREATE TABLE `{database}`.`{table}` LIKE `{table}`")
                cursor.execute(f"INSERT INTO `{database}`.`{table}` SELECT * FROM `{table}`")

    def _mysql_restore(self, database: str) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET FOREIGN_KEY_CHECKS = 0")
            try:
                for table in _tables(cursor):
                    cursor.execute(f"DELETE FROM `{table}`")
                    cursor.execute(f"INSERT INTO `{table}` SELECT * FROM `{database}`.`{table}`")
            finally:
                cursor.execute("SET FOREIGN_KEY_CHECKS = 1")

    def _check_nothing_made_yet(self, key: tuple) -> None:
        with connection.cursor() as cursor:
            made = []
            for table in GUARDED_TABLES:
                cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
                if cursor.fetchone()[0]:
                    made.append(table)
        if made:
            raise RuntimeError(
                f"rows in {', '.join(made)} before the built state {key!r}: a state is built "
                "and restored in an empty database (a restore replaces every row); ask for it "
                "(its fixture) before the fixtures that make rows"
            )


def _tables(cursor) -> list[str]:
    """Every table but the migrations' record (the same in every state)."""
    return [t for t in connection.introspection.table_names(cursor) if t != "django_migrations"]


def _sqlite_copy(source: Path, target: Path) -> None:
    """A SQLite file copied through the backup API (safe while another connection has it open)."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
