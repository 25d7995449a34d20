"""The extract job's rules that need neither Spark nor JDBC: where each
table's read starts, the connection's login, the read time."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from lake.glue_jobs.extract import JobSettings, extract_starts, jdbc_login, read_source, read_time
from lake.glue_jobs.sql import TableNames
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
        "driver": "com.mysql.cj.jdbc.Driver",
    }  # fmt: skip


def test_a_connection_without_a_login_is_named():
    with pytest.raises(ValueError, match="Glue connection 'sakila-lake-rds' has no JDBC URL"):
        jdbc_login({"url": "jdbc:mysql://db.example:3306"}, "sakila-lake-rds")


def test_the_read_time_is_a_naive_time_in_the_site_time_zone():
    now = read_time("America/Chicago")
    assert now.tzinfo is None
    chicago = datetime.now(ZoneInfo("America/Chicago")).replace(tzinfo=None)
    assert abs(chicago - now) < timedelta(seconds=5)


# --- Big tables read in parallel on key ranges ------------------------------------------------


class FakeReader:
    """Spark's DataFrameReader as the extract uses it: records the options of each load."""

    def __init__(self, loads: list[dict], key_range: tuple) -> None:
        self.loads, self.key_range, self.options_set = loads, key_range, {}

    def format(self, name: str) -> "FakeReader":
        return self

    def option(self, name: str, value: str) -> "FakeReader":
        self.options_set[name] = value
        return self

    def options(self, **options: str) -> "FakeReader":
        self.options_set.update(options)
        return self

    def load(self) -> "FakeReader":
        self.loads.append(self.options_set)
        return self

    def first(self) -> tuple:
        return self.key_range


class FakeSpark:
    def __init__(self, key_range: tuple) -> None:
        self.loads: list[dict] = []
        self.key_range = key_range

    @property
    def read(self) -> FakeReader:
        return FakeReader(self.loads, self.key_range)


JDBC = {"url": "jdbc:mysql://db:3306/sakila", "user": "etl", "password": "s", "driver": "d"}


def job_settings(**options) -> JobSettings:
    return JobSettings(
        warehouse="s3://b/lake", names=TableNames("glue_catalog", "sakila_staging", "sakila_marts"),
        time_zone="UTC", overlap_seconds=300,
        batch_rows=10_000, **options,
    )  # fmt: skip


def test_a_big_table_is_read_in_parallel_queries_on_ranges_of_its_key():
    spark = FakeSpark(key_range=(1, 1_600_000, 1_600_000))
    rental = StagedTable(
        name="rental", columns=(("rental_id", "BIGINT"), ("rental_date", "TIMESTAMP_NTZ")),
        primary_key=("rental_id",), fully_extracted=False, last_update_nullable=False,
    )  # fmt: skip

    read_source(spark, rental, None, JDBC, job_settings(read_partitions=8, partition_rows=100_000))

    key_range, read = spark.loads
    assert key_range["query"] == (
        "SELECT MIN(`rental_id`) AS low, MAX(`rental_id`) AS high, COUNT(*) AS row_count "
        "FROM (SELECT `rental_id`, `rental_date` FROM `rental`) AS lake_read"
    )
    assert "query" not in read
    assert read["dbtable"] == "(SELECT `rental_id`, `rental_date` FROM `rental`) AS lake_read"
    assert (read["partitionColumn"], read["numPartitions"]) == ("rental_id", "8")
    assert (read["lowerBound"], read["upperBound"]) == ("1", "1600001")
    assert read["fetchsize"] == "10000" and read["user"] == "etl"


def test_small_reads_and_tables_without_one_integer_key_are_one_query():
    settings = job_settings(read_partitions=8, partition_rows=100_000)
    small = FakeSpark(key_range=(1, 50, 50))
    read_source(small, table("rental"), None, JDBC, settings)
    assert small.loads[-1]["query"] == "SELECT `id` FROM `rental`"
    assert "partitionColumn" not in small.loads[-1]

    link = StagedTable(
        name="film_actor", columns=(("actor_id", "BIGINT"), ("film_id", "BIGINT")),
        primary_key=("actor_id", "film_id"), fully_extracted=True, last_update_nullable=False,
    )  # fmt: skip
    spark = FakeSpark(key_range=(1, 10**7, 10**7))
    read_source(spark, link, None, JDBC, settings)
    assert len(spark.loads) == 1 and "query" in spark.loads[0]  # no range query either

    empty = FakeSpark(key_range=(None, None, 0))
    read_source(empty, table("rental"), None, JDBC, settings)
    assert "query" in empty.loads[-1]
