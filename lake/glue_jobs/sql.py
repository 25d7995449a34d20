"""The SQL the Glue jobs send: to MySQL over JDBC, and to Spark with Iceberg.

Pure text, so that it is tested without Spark, JDBC or Glue. Spark and
MySQL both quote identifiers with backticks.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode

from lake.glue_jobs.tables import StagedTable

# As lake/catalog/ creates tables. Copy-on-write: a snapshot is exactly its
# data files, which the app's readers rely on; Iceberg's default, made explicit.
TABLE_PROPERTIES = {
    "format-version": "2",
    "write.target-file-size-bytes": str(32 * 1024 * 1024),
    "write.delete.mode": "copy-on-write",
    "write.update.mode": "copy-on-write",
    "write.merge.mode": "copy-on-write",
}
# MySQL Connector/J options (MariaDB Connector/J takes the first, ignores the
# second and streams by fetch size anyway): YEAR read as a number (not a date),
# and rows streamed in fetch-size batches rather than the whole result held in memory.
JDBC_OPTIONS = {"yearIsDateType": "false", "useCursorFetch": "true"}
MYSQL_SCHEMES = ("jdbc:mysql:", "jdbc:mariadb:")
REMOVE = "lake_remove"  # the marker column of a mart merge's source rows


def quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def columns_list(names: Sequence[str], alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + quote(name) for name in names)


def pairs(names: Sequence[str], left: str, right: str, joiner: str) -> str:
    """``left.x = right.x`` for each name, joined: a join condition (" AND ")
    or a MERGE's assignments (", ")."""
    return joiner.join(f"{left}.{quote(name)} = {right}.{quote(name)}" for name in names)


@dataclass(frozen=True)
class TableNames:
    """Where the jobs find the lake's tables: the Spark catalog their ``--conf``
    names, and each zone's namespace in it, as lake/catalog/ names them
    (``sakila_staging`` in the Glue Data Catalog, ``staging`` in the SQL catalog)."""

    catalog: str
    staging: str
    marts: str

    def namespace(self, zone: str) -> str:
        """``<catalog>.<namespace>`` of a lake zone ("staging", "marts")."""
        if zone not in ("staging", "marts"):
            raise ValueError(f"not a lake zone: {zone!r}")
        return f"{quote(self.catalog)}.{quote(getattr(self, zone))}"

    def identifier(self, zone: str, table: str) -> str:
        """The lake table ``<zone>.<table>`` as Spark names it."""
        return f"{self.namespace(zone)}.{quote(table)}"


# --- MySQL, over JDBC ---------------------------------------------------------------------


def jdbc_url(url: str) -> str:
    """A MySQL JDBC URL with the options the extract needs (an option the URL
    already sets is kept as it is); other databases' URLs as they are."""
    if not url.startswith(MYSQL_SCHEMES):
        return url
    base, _, query = url.partition("?")
    options = dict(parse_qsl(query, keep_blank_values=True))
    for name, value in JDBC_OPTIONS.items():
        options.setdefault(name, value)
    return f"{base}?{urlencode(options)}"


def jdbc_custom_schema(table: StagedTable, url: str) -> str | None:
    """Spark's ``customSchema`` for a read of ``table``: on SQLite, whose JDBC
    driver cuts a DATETIME held as text to its date and reads a DECIMAL through
    a double, those columns are read as the text SQLite holds (the extract's
    casts then give their exact values); elsewhere None (the driver's types)."""
    if not url.startswith("jdbc:sqlite:"):
        return None
    as_text = [
        f"{quote(name)} STRING"
        for name, spark_type in table.columns
        if spark_type.startswith(("TIMESTAMP", "DECIMAL"))
    ]
    return ", ".join(as_text) or None


def jdbc_query(table: StagedTable, since: datetime | None) -> str:
    """The rows of ``table`` with last_update at or after ``since`` (every
    row when None), as the local engine reads them (lake/pipeline/extract.py)."""
    sql = f"SELECT {columns_list(table.column_names)} FROM {quote(table.name)}"
    if since is None:
        return sql
    sql += f" WHERE `last_update` >= '{since.isoformat(' ', timespec='microseconds')}'"
    if table.last_update_nullable:
        sql += " OR `last_update` IS NULL"
    return sql


def count_query(table: StagedTable) -> str:
    """The source table's row count: fewer rows than staging holds means rows
    were deleted (one small query, every run)."""
    return f"SELECT COUNT(*) AS row_count FROM {quote(table.name)}"


def keys_query(table: StagedTable) -> str:
    """The source table's primary keys (one column or the composite key), read
    only when the counts differ."""
    return f"SELECT {columns_list(table.primary_key)} FROM {quote(table.name)}"


PARTITION_KEY_TYPES = ("INT", "BIGINT")  # what Spark's JDBC partitionColumn can split


def partition_key(table: StagedTable) -> str | None:
    """The column a big read of ``table`` is split on: its primary key when that
    is one integer column (key ranges), else None (one query)."""
    if len(table.primary_key) != 1:
        return None
    key = table.primary_key[0]
    return key if dict(table.columns).get(key) in PARTITION_KEY_TYPES else None


# The key range query's columns, typed: on SQLite the driver reports no type
# for MIN/MAX of no rows (an incremental read with nothing new), and Spark then
# fails reading them ("column -1 out of bounds").
KEY_RANGE_SCHEMA = "`low` BIGINT, `high` BIGINT, `row_count` BIGINT"


def key_range_query(query: str, key: str) -> str:
    """The smallest and largest key and the row count of what ``query`` reads."""
    return (
        f"SELECT MIN({quote(key)}) AS low, MAX({quote(key)}) AS high, COUNT(*) AS row_count "
        f"FROM ({query}) AS lake_read"
    )


def jdbc_read_options(
    query: str,
    key: str | None,
    key_range: tuple[int | None, int | None, int],
    partitions: int,
    partition_rows: int,
) -> dict[str, str]:
    """Spark JDBC options that read ``query``: in ``partitions`` parallel queries
    on ranges of ``key`` (Spark's partitionColumn, lowerBound, upperBound and
    numPartitions) when it reads at least ``partition_rows`` rows, else in one.

    The bounds only set the ranges' width: the first and last range are open,
    so a row whose key lies outside them is still read, once.
    """
    low, high, rows = key_range
    if key is None or partitions < 2 or rows < max(partition_rows, 1) or low is None:
        return {"query": query}
    return {
        # partitionColumn cannot be combined with "query": the read is a derived table.
        "dbtable": f"({query}) AS lake_read",
        "partitionColumn": key,
        "lowerBound": str(low),
        "upperBound": str(high + 1),
        "numPartitions": str(min(partitions, max(high - low + 1, 1))),
    }


# --- Spark --------------------------------------------------------------------------------


def cast_expressions(columns: Sequence[tuple[str, str]]) -> list[str]:
    """``DataFrame.selectExpr`` arguments that give a frame exactly these columns and types."""
    return [f"CAST({quote(name)} AS {spark_type}) AS {quote(name)}" for name, spark_type in columns]


def create_namespace_sql(names: TableNames, zone: str) -> str:
    return f"CREATE NAMESPACE IF NOT EXISTS {names.namespace(zone)}"


def drop_columns_sql(identifier: str, table_columns: Sequence[str], columns: Sequence[str]):
    """``ALTER TABLE ... DROP COLUMN`` for each column the table has that the
    manifest no longer lists (staff.password, left out of the lake), else None."""
    wanted = set(columns)
    gone = [name for name in table_columns if name not in wanted]
    if not gone:
        return None
    return f"ALTER TABLE {identifier} DROP COLUMNS ({columns_list(gone)})"


def create_table_sql(
    identifier: str, columns: Sequence[tuple[str, str]], month_partition: str | None = None
) -> str:
    """The Iceberg table, if it does not exist, partitioned by month of
    ``month_partition`` (the partition field is ``<column>_month``, as pyiceberg names it)."""
    definitions = ", ".join(f"{quote(name)} {spark_type}" for name, spark_type in columns)
    partition = f" PARTITIONED BY (months({quote(month_partition)}))" if month_partition else ""
    properties = ", ".join(f"'{key}' = '{value}'" for key, value in TABLE_PROPERTIES.items())
    return (
        f"CREATE TABLE IF NOT EXISTS {identifier} ({definitions}) USING iceberg"
        f"{partition} TBLPROPERTIES ({properties})"
    )


def snapshot_sql(identifier: str, columns: Sequence[str], snapshot_id: int) -> str:
    """The table as it was at a snapshot (Iceberg time travel)."""
    return f"SELECT {columns_list(columns)} FROM {identifier} VERSION AS OF {int(snapshot_id)}"


def changed_rows_sql(
    table: StagedTable, extracted: str, published: str, *, removed_too: bool = False
) -> str:
    """The extracted rows that are not, identically, in the published state
    among rows with the keys read; with ``removed_too`` (a table read whole)
    also the published rows no longer there. As lake/pipeline/stage.py does."""
    columns = columns_list(table.column_names)
    if removed_too:
        return (
            f"(SELECT {columns} FROM {extracted} EXCEPT SELECT {columns} FROM {published}) "
            f"UNION ALL "
            f"(SELECT {columns} FROM {published} EXCEPT SELECT {columns} FROM {extracted})"
        )
    on = pairs(table.primary_key, "p", "e", " AND ")
    return (
        f"SELECT {columns} FROM {extracted} EXCEPT "
        f"SELECT {columns_list(table.column_names, 'p')} FROM {published} AS p "
        f"LEFT SEMI JOIN {extracted} AS e ON {on}"
    )


def row_count_sql(identifier: str) -> str:
    """The table's row count from its current snapshot's summary (metadata
    only, no data file read); no row while the table has no snapshot."""
    return (
        f"SELECT CAST(s.summary['total-records'] AS BIGINT) AS row_count "
        f"FROM {identifier}.snapshots AS s JOIN {identifier}.refs AS r "
        f"ON s.snapshot_id = r.snapshot_id WHERE r.name = 'main'"
    )


def snapshot_rows_sql(identifier: str, snapshot_id: int) -> str:
    """A snapshot's row count from its summary (metadata only)."""
    return (
        f"SELECT CAST(summary['total-records'] AS BIGINT) AS row_count "
        f"FROM {identifier}.snapshots WHERE snapshot_id = {int(snapshot_id)}"
    )


def set_current_snapshot_sql(names: "TableNames", zone: str, table: str, snapshot_id: int) -> str:
    """Iceberg's procedure that makes ``snapshot_id`` the table's current snapshot."""
    target = f"{getattr(names, zone)}.{table}"
    return (
        f"CALL {quote(names.catalog)}.system.set_current_snapshot("
        f"table => '{target}', snapshot_id => {int(snapshot_id)})"
    )


def deleted_rows_sql(table: StagedTable, staged: str, source_keys: str, recorded: str) -> str:
    """Staged rows whose key the source no longer has, less those a previous
    attempt of the run ``recorded`` already. As lake/pipeline/stage.py does."""
    return (
        f"SELECT {columns_list(table.column_names, 's')} FROM {staged} AS s "
        f"LEFT ANTI JOIN {source_keys} AS k ON {pairs(table.primary_key, 's', 'k', ' AND ')} "
        f"LEFT ANTI JOIN {recorded} AS r ON {pairs(table.primary_key, 's', 'r', ' AND ')}"
    )


def same_row(table: StagedTable, left: str, right: str) -> str:
    """Two rows are the same row with the same values (NULL equal to NULL): a
    row re-created under a deleted row's key is not the deleted row."""
    keys = pairs(table.primary_key, left, right, " AND ")
    others = [name for name in table.column_names if name not in table.primary_key]
    return " AND ".join(
        [keys, *(f"{left}.{quote(name)} <=> {right}.{quote(name)}" for name in others)]
    )


def delete_rows_sql(identifier: str, table: StagedTable, source: str) -> str:
    """Delete from the table the rows of ``source`` still in it, unchanged (one
    Iceberg commit; rows already gone match nothing, so a rerun changes nothing)."""
    return (
        f"MERGE INTO {identifier} AS t USING {source} AS s ON {same_row(table, 't', 's')} "
        f"WHEN MATCHED THEN DELETE"
    )


def upsert_sql(identifier: str, source: str, keys: Sequence[str], columns: Sequence[str]) -> str:
    """Merge ``source`` into the table by primary key: a changed row replaces
    the row with its key, a new one is added (one Iceberg commit)."""
    on = pairs(keys, "t", "s", " AND ")
    updates = pairs(columns, "t", "s", ", ")
    return (
        f"MERGE INTO {identifier} AS t USING {source} AS s ON {on} "
        f"WHEN MATCHED THEN UPDATE SET {updates} "
        f"WHEN NOT MATCHED THEN INSERT ({columns_list(columns)}) "
        f"VALUES ({columns_list(columns, 's')})"
    )


def replace_keys_source_sql(
    target: str, rows: str, keys: str, key: str, grain: Sequence[str], columns: Sequence[str]
) -> str:
    """What a mart merge applies: the new ``rows`` for the rebuilt ``keys``,
    and, marked for removal, the target's rows of those keys that no new row
    replaces (``grain``: the columns that identify a row)."""
    on_key = f"t.{quote(key)} = k.{quote(key)}"
    on_grain = pairs(grain, "t", "n", " AND ")
    return (
        f"SELECT {columns_list(columns)}, FALSE AS {REMOVE} FROM {rows} "
        f"UNION ALL "
        f"SELECT {columns_list(columns, 't')}, TRUE AS {REMOVE} FROM {target} AS t "
        f"LEFT SEMI JOIN {keys} AS k ON {on_key} "
        f"LEFT ANTI JOIN {rows} AS n ON {on_grain}"
    )


def replace_keys_sql(
    target: str, rows: str, keys: str, key: str, grain: Sequence[str], columns: Sequence[str]
) -> str:
    """Replace the target's rows for the rebuilt keys with the new rows, in
    one Iceberg commit: rows are updated, added or removed by ``grain``, so a
    rerun changes nothing and a key with fewer rows than before loses the rest."""
    source = replace_keys_source_sql(target, rows, keys, key, grain, columns)
    on = pairs(grain, "t", "s", " AND ")
    updates = pairs(columns, "t", "s", ", ")
    return (
        f"MERGE INTO {target} AS t USING ({source}) AS s ON {on} "
        f"WHEN MATCHED AND s.{REMOVE} THEN DELETE "
        f"WHEN MATCHED THEN UPDATE SET {updates} "
        f"WHEN NOT MATCHED AND NOT s.{REMOVE} THEN INSERT ({columns_list(columns)}) "
        f"VALUES ({columns_list(columns, 's')})"
    )
