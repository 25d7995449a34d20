"""CHAR columns reach the lake as MySQL returns them (issue 25, defect 1):
Spark 3.5 pads a CHAR(n) value it reads to n characters
(``spark.sql.readSideCharPadding``), so language.name (CHAR(20)) came out as
'English' and 13 spaces. The extract's read, over JDBC from MariaDB."""

import MySQLdb
import pytest

from lake.glue_jobs.extract import SPARK_SETTINGS, JobSettings, read_source
from lake.glue_jobs.sql import TableNames
from lake.glue_jobs.tables import StagedTable

pytestmark = pytest.mark.spark

DATABASE = "sakila_spark_char"  # of this test's own: others use the server at the same time
LANGUAGE = StagedTable(
    name="language", columns=(("language_id", "INT"), ("name", "STRING")),
    primary_key=("language_id",), fully_extracted=False, last_update_nullable=False,
)  # fmt: skip


@pytest.fixture
def mariadb_language():
    try:
        server = MySQLdb.connect(host="127.0.0.1", port=3306, user="root")
    except MySQLdb.OperationalError as error:
        pytest.skip(f"no MariaDB at 127.0.0.1:3306 ({error})")
    cursor = server.cursor()
    cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
    cursor.execute(f"CREATE DATABASE {DATABASE}")
    cursor.execute(f"CREATE TABLE {DATABASE}.language (language_id INT PRIMARY KEY, name CHAR(20))")
    cursor.execute(f"INSERT INTO {DATABASE}.language VALUES (1, 'English'), (2, 'Italian')")
    server.commit()
    yield {
        "url": f"jdbc:mysql://127.0.0.1:3306/{DATABASE}", "user": "root", "password": "",
        "driver": "org.mariadb.jdbc.Driver",
    }  # fmt: skip
    cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
    server.close()


def read_names(spark, jdbc) -> list[str]:
    settings = JobSettings(
        warehouse="file:///unused", names=TableNames("sakila", "staging", "marts"),
        time_zone="UTC", overlap_seconds=300, batch_rows=1000,
    )  # fmt: skip
    rows = read_source(spark, LANGUAGE, None, jdbc, settings).orderBy("language_id").collect()
    return [row["name"] for row in rows]


def test_char_values_are_read_unpadded_with_the_jobs_settings(spark, mariadb_language):
    spark.conf.set("spark.sql.readSideCharPadding", "true")  # Spark 3.5's default
    try:
        assert read_names(spark, mariadb_language) == ["English" + " " * 13, "Italian" + " " * 13]
        for name, value in SPARK_SETTINGS.items():  # what extract_run and the --conf set
            spark.conf.set(name, value)
        assert read_names(spark, mariadb_language) == ["English", "Italian"]
    finally:
        spark.conf.set("spark.sql.readSideCharPadding", "false")
