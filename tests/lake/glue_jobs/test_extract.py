"""The extract job's rules that need neither Spark nor JDBC: where each
table's read starts, the connection's login, the read time."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from lake.glue_jobs.extract import extract_starts, jdbc_login, read_time
from lake.glue_jobs.tables import StagedTable
from lake.glue_jobs.workflow import RunProperties


def table(name: str, *, fully_extracted: bool = False) -> StagedTable:
    return StagedTable(
        name=name, columns=(("id", "BIGINT"),), primary_key=("id",),
        fully_extracted=fully_extracted, last_update_nullable=False,
    )  # fmt: skip


TABLES = [table("rental"), table("customer"), table("film_actor", fully_extracted=True)]
WATERMARK = datetime(2005, 8, 1, 12, 0)


def run(*, full: bool) -> RunProperties:
    return RunProperties(
        run_id=7, full=full, published_snapshots={}, changed_rows={},
        watermarks_from={"rental": WATERMARK, "film_actor": WATERMARK},
    )  # fmt: skip


def test_an_incremental_read_starts_at_the_watermark_less_the_overlap():
    starts = extract_starts(TABLES, run(full=False), overlap_seconds=300)
    assert starts == {
        "rental": WATERMARK - timedelta(seconds=300),
        "customer": None,  # never extracted: every row
        "film_actor": None,  # read whole every run
    }


def test_a_full_run_reads_every_row():
    assert set(extract_starts(TABLES, run(full=True), overlap_seconds=300).values()) == {None}


def test_the_login_comes_from_the_glue_connection_with_its_database():
    connection = {
        "url": "jdbc:mysql://db.example:3306", "fullUrl": "jdbc:mysql://db.example:3306/sakila",
        "user": "etl", "password": "secret", "vendor": "mysql",
    }  # fmt: skip
    assert jdbc_login(connection, "sakila-lake-rds") == {
        "url": "jdbc:mysql://db.example:3306/sakila", "user": "etl", "password": "secret",
    }  # fmt: skip


def test_a_connection_without_a_login_is_named():
    with pytest.raises(ValueError, match="Glue connection 'sakila-lake-rds' has no JDBC URL"):
        jdbc_login({"url": "jdbc:mysql://db.example:3306"}, "sakila-lake-rds")


def test_the_read_time_is_a_naive_time_in_the_site_time_zone():
    now = read_time("America/Chicago")
    assert now.tzinfo is None
    chicago = datetime.now(ZoneInfo("America/Chicago")).replace(tzinfo=None)
    assert abs(chicago - now) < timedelta(seconds=5)
