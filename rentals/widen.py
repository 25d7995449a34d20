"""Widen the narrow ids of a database made by MySQL's own Sakila DDL to INT UNSIGNED.

MySQL's ``sakila-schema.sql`` makes ``payment_id`` and ``customer_id``
SMALLINT UNSIGNED (65,535 ids), ``inventory_id`` MEDIUMINT UNSIGNED,
``store_id``, ``staff_id``, ``language_id`` and ``category_id`` TINYINT
UNSIGNED (255). A growing business runs out; ``python manage.py widen_ids``
makes every such id column INT UNSIGNED (4,294,967,295), the primary keys
and every foreign key column pointing at them alike.

MySQL refuses to change the type of a column a foreign key joins, so the
foreign keys on those columns are dropped first and re-created afterwards,
with their names and ON DELETE / ON UPDATE rules. MySQL's DDL is not
transactional: run it with the site stopped, after a backup. Should MySQL
refuse a statement half way, the error lists the statements not yet run
(the foreign keys to re-create among them). Running it again on a widened
database changes nothing.
"""

from dataclasses import dataclass, field

from django.db import DatabaseError, connections

from rentals import limits
from rentals.models import SAKILA_MODELS, FilmText

NARROW = {
    "tinyint",
    "tinyint unsigned",
    "smallint",
    "smallint unsigned",
    "mediumint",
    "mediumint unsigned",
}
WIDE_TYPE = "INT UNSIGNED"


@dataclass(frozen=True)
class ForeignKey:
    name: str
    table: str
    column: str
    referenced_table: str
    referenced_column: str
    on_delete: str
    on_update: str

    def add_sql(self, quote) -> str:
        return (
            f"ADD CONSTRAINT {quote(self.name)} FOREIGN KEY ({quote(self.column)}) "
            f"REFERENCES {quote(self.referenced_table)} ({quote(self.referenced_column)}) "
            f"ON DELETE {self.on_delete} ON UPDATE {self.on_update}"
        )


@dataclass(frozen=True)
class ColumnChange:
    table: str
    column: str
    old_type: str
    nullable: bool
    auto_increment: bool

    def modify_sql(self, quote) -> str:
        return (
            f"MODIFY {quote(self.column)} {WIDE_TYPE} {'NULL' if self.nullable else 'NOT NULL'}"
            + (" AUTO_INCREMENT" if self.auto_increment else "")
        )


@dataclass
class WidenPlan:
    columns: list[ColumnChange] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = [f"{c.table}.{c.column}: {c.old_type.upper()} -> {WIDE_TYPE}" for c in self.columns]
        lines += [
            f"foreign key {fk.name} ({fk.table}.{fk.column} -> "
            f"{fk.referenced_table}.{fk.referenced_column}): dropped and re-created"
            for fk in self.foreign_keys
        ]
        return lines


def id_columns() -> set[tuple[str, str]]:
    """(table, column) of every id of the Sakila tables: primary and foreign keys."""
    ids = set()
    for model in SAKILA_MODELS:
        for model_field in model._meta.concrete_fields:
            if model_field.column and (model_field.primary_key or model_field.is_relation):
                ids.add((model._meta.db_table, model_field.column))
    ids.add((FilmText._meta.db_table, "film_id"))  # holds film ids, without a key
    return ids


def widen_plan(using: str = "default") -> WidenPlan:
    """What ``widen`` would change; empty when every id is INT or wider (or not MySQL)."""
    connection = connections[using]
    plan = WidenPlan()
    if connection.vendor != "mysql":
        return plan
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, EXTRA "
            "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()"
        )
        wanted = id_columns()
        for table, column, kind, nullable, extra in cursor.fetchall():
            kind = limits.integer_type(kind) if kind.split("(")[0] in _INTS else kind
            if (table, column) in wanted and kind in NARROW:
                plan.columns.append(
                    ColumnChange(
                        table=table,
                        column=column,
                        old_type=kind,
                        nullable=nullable == "YES",
                        auto_increment="auto_increment" in extra.lower(),
                    )
                )
        changing = {(c.table, c.column) for c in plan.columns}
        cursor.execute(
            "SELECT k.CONSTRAINT_NAME, k.TABLE_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, "
            "k.REFERENCED_COLUMN_NAME, r.DELETE_RULE, r.UPDATE_RULE "
            "FROM information_schema.KEY_COLUMN_USAGE k "
            "JOIN information_schema.REFERENTIAL_CONSTRAINTS r "
            "ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA "
            "AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME "
            "WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL "
            "ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME"
        )
        for row in cursor.fetchall():
            fk = ForeignKey(*row)
            if (fk.table, fk.column) in changing or (
                fk.referenced_table,
                fk.referenced_column,
            ) in changing:
                plan.foreign_keys.append(fk)
    plan.columns.sort(key=lambda c: (c.table, c.column))
    return plan


_INTS = {"tinyint", "smallint", "mediumint", "int", "bigint"}


def widen(plan: WidenPlan, using: str = "default") -> None:
    """Drop the plan's foreign keys, widen its columns (one ALTER per table), re-create the keys."""
    statements = widen_statements(plan, connections[using].ops.quote_name)
    done = 0
    try:
        with connections[using].cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
                done += 1
    except DatabaseError as error:
        left = ";\n".join(statements[done:])
        raise WidenError(
            f"{error}\nNot run yet (run them once the cause is fixed):\n{left};"
        ) from error
    finally:
        limits.forget_column_types()


class WidenError(Exception):
    pass


def widen_statements(plan: WidenPlan, quote) -> list[str]:
    """ALTER TABLE statements: drop the foreign keys, widen, re-create the keys."""
    fk_tables = sorted({fk.table for fk in plan.foreign_keys})
    statements = []
    for table in fk_tables:
        drops = [
            f"DROP FOREIGN KEY {quote(fk.name)}" for fk in plan.foreign_keys if fk.table == table
        ]
        statements.append(f"ALTER TABLE {quote(table)} {', '.join(drops)}")
    for table in sorted({c.table for c in plan.columns}):
        modifies = [c.modify_sql(quote) for c in plan.columns if c.table == table]
        statements.append(f"ALTER TABLE {quote(table)} {', '.join(modifies)}")
    for table in fk_tables:
        adds = [fk.add_sql(quote) for fk in plan.foreign_keys if fk.table == table]
        statements.append(f"ALTER TABLE {quote(table)} {', '.join(adds)}")
    return statements
