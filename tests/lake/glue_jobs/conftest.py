import logging
import os

import pytest


@pytest.fixture(scope="session")
def spark():
    """One local SparkSession for the test session (it takes seconds to start),
    set as Glue runs Spark: UTC session and JVM time zone; the JDBC drivers
    make install-spark installs on its class path."""
    from pyspark.sql import SparkSession

    from lake.core.spark_jars import spark_install

    jars = ",".join(str(jar) for jar in spark_install().jars)

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # no cluster: stay on loopback
    # py4j logs its goodbyes while the interpreter exits, after pytest closed the streams.
    logging.getLogger("py4j").setLevel(logging.WARNING)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("sakila-lake-tests")
        .config("spark.driver.memory", "1g")
        .config("spark.jars", jars)
        .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
