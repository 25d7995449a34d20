"""Every SQL file renders for Spark (Glue) and Trino (Athena), and the renderings parse."""

import pytest
import sqlglot

from lake.core.marts import SQL_MARTS
from lake.core.transpile import SQL_DIR, TARGET_DIALECTS, render, sql_files


def test_every_mart_has_its_two_sql_files():
    names = {path.stem for path in sql_files()}
    for mart in SQL_MARTS:
        assert {mart.name, f"{mart.name}_keys"} <= names


@pytest.mark.parametrize("path", sql_files(), ids=lambda path: path.stem)
@pytest.mark.parametrize("engine", sorted(TARGET_DIALECTS))
def test_sql_renders_and_parses_in_each_dialect(path, engine):
    sql = path.read_text()
    sqlglot.parse_one(sql, read="duckdb")  # the source itself is valid DuckDB
    rendered = render(sql, engine)
    parsed = sqlglot.parse_one(rendered, read=TARGET_DIALECTS[engine])
    assert parsed.find(sqlglot.exp.Select) is not None


def test_portable_date_ids_survive_rendering():
    sql = (SQL_DIR / "marts" / "fact_sales.sql").read_text()
    for engine in TARGET_DIALECTS:
        assert "* 10000 +" in render(sql, engine)
