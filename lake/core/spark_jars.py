"""What running the jobs on Spark needs besides Python: spark-submit, Java, and
the jars, each from a package at a locked version (``make install-spark``).

- ``spark-submit`` and Spark's own jars: PySpark 3.5.4 (requirements-spark.txt,
  with hashes), or the Spark of ``SPARK_HOME`` (a cluster's);
- Iceberg's Spark runtime (catalogs, MERGE, time travel): the jar the PyPI
  package ``snowpark-connect-deps-iceberg`` ships (requirements-spark.txt);
- JDBC drivers, from Debian: MariaDB Connector/J (``libmariadb-java``: MySQL
  and MariaDB) and SQLite's (``libxerial-sqlite-jdbc-java``, whose native
  library is in ``libxerial-sqlite-jdbc-jni``), at the versions the Makefile
  pins and the SHA-256 below.

``python -m lake.core.spark_jars`` checks them all (make install-spark runs it).
Plain Python: no Django, no PySpark import.
"""

import hashlib
import os
import shutil
import sys
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

ICEBERG_PACKAGE = "snowpark_connect_deps_iceberg"
ICEBERG_RUNTIME = "iceberg-spark-runtime-3.5_2.12-1.10.2.jar"
# A class Iceberg's runtime shades: the jar of snowpark-connect-deps-iceberg 1.0.3
# lacks it (NoClassDefFoundError at the first catalog call), 1.0.2's has it.
ICEBERG_SHADED_JACKSON = (
    "org/apache/iceberg/shaded/com/fasterxml/jackson/core/JsonFactoryBuilder.class"
)
# Debian bookworm's packages, at the versions the Makefile installs.
DEBIAN_JARS = {
    "mariadb": (
        "/usr/share/java/mariadb-java-client-2.7.6.jar",
        "74fd9db132c3790202b783cf20661af0a2d33f0e4e8e0600457d446ec7c54970",
    ),
    "sqlite": (
        "/usr/share/java/xerial-sqlite-jdbc-3.40.1.0.jar",
        "e0ded1fd98ca4004ede5c03add5af765014f80009ec7bbd13c79e1b892190ba5",
    ),
}
SQLITE_NATIVE = "libsqlitejdbc.so"  # Debian's SQLite JDBC loads it from java.library.path
INSTALL = "make install-spark"


class SparkNotInstalled(Exception):
    """Something the Spark jobs need is missing (the message names it and the fix)."""


@dataclass(frozen=True)
class SparkInstall:
    spark_submit: Path
    jars: tuple[Path, ...]  # Iceberg's runtime and the JDBC drivers
    library_path: str  # java.library.path: where the SQLite driver's native library is


def spark_install(*, check_hashes: bool = False) -> SparkInstall:
    """Where everything is; ``SparkNotInstalled`` naming what is missing and
    ``make install-spark``. With ``check_hashes``, the Debian jars' SHA-256 too."""
    problems = []
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        problems.append("Java (17) is not installed")
    spark_submit = _spark_submit()
    if spark_submit is None:
        problems.append("spark-submit was not found (PySpark is not installed, no SPARK_HOME)")
    runtime = _iceberg_runtime()
    if runtime is None:
        problems.append(f"Iceberg's Spark runtime ({ICEBERG_RUNTIME}) is not installed")
    jars = [runtime] if runtime else []
    for name, (path, sha256) in DEBIAN_JARS.items():
        jar = Path(path)
        if not jar.is_file():
            problems.append(f"the {name} JDBC driver ({path}) is not installed")
        elif check_hashes and _sha256(jar) != sha256:
            problems.append(f"{path} is not the locked version (SHA-256 differs)")
        else:
            jars.append(jar)
    native = sorted(Path("/usr/lib").glob(f"*/jni/{SQLITE_NATIVE}"))
    if not native:
        problems.append(f"the SQLite JDBC driver's native library ({SQLITE_NATIVE}) is missing")
    if problems:
        raise SparkNotInstalled(
            f"The Spark engine cannot run: {'; '.join(problems)}. Run `{INSTALL}` "
            "(as root it installs the Debian packages; see docs/spark.md)."
        )
    return SparkInstall(spark_submit, tuple(jars), str(native[0].parent))


def _spark_submit() -> Path | None:
    """``$SPARK_HOME/bin/spark-submit`` when SPARK_HOME is set, else PySpark's own."""
    if home := os.environ.get("SPARK_HOME"):
        found = Path(home) / "bin" / "spark-submit"
        return found if found.is_file() else None
    spec = find_spec("pyspark")
    if spec is None or spec.origin is None:
        return None
    found = Path(spec.origin).parent / "bin" / "spark-submit"
    return found if found.is_file() else None


def _iceberg_runtime() -> Path | None:
    spec = find_spec(ICEBERG_PACKAGE)
    if spec is None or spec.origin is None:
        return None
    jar = Path(spec.origin).parent / "jars" / ICEBERG_RUNTIME
    return jar if jar.is_file() else None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def has_shaded_jackson(jar: Path) -> bool:
    """Whether an Iceberg runtime jar carries the Jackson it was built against."""
    from zipfile import ZipFile

    with ZipFile(jar) as archive:
        return ICEBERG_SHADED_JACKSON in archive.namelist()


def main() -> int:
    try:
        install = spark_install(check_hashes=True)
    except SparkNotInstalled as error:
        print(error, file=sys.stderr)
        return 1
    if not has_shaded_jackson(install.jars[0]):
        print(f"{install.jars[0]} lacks {ICEBERG_SHADED_JACKSON}", file=sys.stderr)
        return 1
    print(f"spark-submit: {install.spark_submit}")
    for jar in install.jars:
        print(f"jar: {jar}")
    print(f"native libraries: {install.library_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
