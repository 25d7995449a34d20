"""The report SQL renders for Trino (Athena) and Spark, and the renderings parse."""

import pytest
import sqlglot

from lake.core.transpile import TARGET_DIALECTS, render
from reports.registry import REPORTS, SQL_DIR

REPORT_SQL = sorted(SQL_DIR.parent.rglob("*.sql"))


@pytest.mark.parametrize("path", REPORT_SQL, ids=lambda path: path.stem)
@pytest.mark.parametrize("engine", sorted(TARGET_DIALECTS))
def test_report_sql_renders_and_parses_in_each_dialect(path, engine):
    sql = path.read_text()
    sqlglot.parse_one(sql, read="duckdb")
    parsed = sqlglot.parse_one(render(sql, engine), read=TARGET_DIALECTS[engine])
    assert parsed.find(sqlglot.exp.Select) is not None


def test_every_report_is_rendered_with_its_parameters_bound():
    """Every report has its SQL file, and its parameters stay placeholders
    (bound by the engine, never pasted)."""
    for report in REPORTS.values():
        path = SQL_DIR / f"{report.name}.sql"
        assert path in REPORT_SQL
        for engine in TARGET_DIALECTS:
            sql = render(path.read_text(), engine)
            for param in report.params:
                assert f":{param.name}" in sql, (report.name, engine, param.name)
            assert "+ 1)" not in sql  # a date plus a number: Trino has no such thing
