"""One SQL, three engines: the lake's SQL files are written in DuckDB's
dialect and rendered by sqlglot for Spark (Glue jobs) and Trino (Athena)."""

from pathlib import Path

import sqlglot

SQL_DIR = Path(__file__).resolve().parent / "sql"
SOURCE_DIALECT = "duckdb"
TARGET_DIALECTS = {"spark": "spark", "athena": "trino"}


def sql_files() -> list[Path]:
    return sorted(SQL_DIR.rglob("*.sql"))


def render(sql: str, engine: str) -> str:
    """``sql`` (DuckDB) in the dialect of ``engine`` ("spark" or "athena")."""
    (rendered,) = sqlglot.transpile(
        sql, read=SOURCE_DIALECT, write=TARGET_DIALECTS[engine], pretty=True
    )
    return rendered
