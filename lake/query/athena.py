"""Run report SQL on Amazon Athena (pyathena), at a pipeline run's Iceberg snapshots.

The SQL is written once, for DuckDB (``lake/core/sql/``), and rewritten on sqlglot's
syntax tree, never by string replacement:

- each mart (``fact_sales``) becomes ``"<GLUE_DATABASE>_marts"."fact_sales"
  FOR VERSION AS OF <snapshot id>``: Iceberg time travel, so a report reads
  exactly what the run published, even while the next run writes;
- each ``$name`` (or ``?``) parameter becomes a ``?`` whose value travels in
  ``ExecutionParameters``, in the order of the ``?``s in the rendered SQL;
- the tree is rendered for Trino, Athena's engine 3.

Athena reuses an identical query's result for up to ``ATHENA_RESULT_REUSE_MINUTES``
(0: never). After ``execute`` the engine keeps the query's figures (bytes
scanned, cost estimate, execution id, reused or not) in ``last_statistics``.
"""

import logging
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from itertools import pairwise

import pyarrow as pa
import pyathena
import sqlglot
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from pyathena.connection import Connection
from pyathena.error import Error as PyAthenaError
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, SqlglotError
from sqlglot.tokens import TokenType

from lake import selectors
from lake.aws.clients import RETRIES
from lake.catalog import catalog_namespace
from lake.core.marts import MARTS
from lake.core.transpile import SOURCE_DIALECT, TARGET_DIALECTS
from lake.query.base import QueryEngine, QueryError, run_with_timeout
from lake.query.duckdb import (
    ERROR_NO_DATA,
    ERROR_NOT_ONE_SELECT,
    ERROR_TOO_LARGE,
    check_single_select,
    without_trailing_semicolon,
)

logger = logging.getLogger(__name__)

ERROR_NOT_A_MART = (
    "Only the lake's marts can be queried, by their plain names ({marts}); not {name}."
)
ERROR_NO_SNAPSHOT = "The run being read has no snapshot of {name}."
ERROR_MISSING_PARAMETER = "The query needs a value for the parameter {name}."
ERROR_PARAMETER_STYLE = (
    "The query's parameters are {used} but the values came as {given}: "
    "name them ($start) with a dict, or number them (?, $1) with a list."
)
ERROR_PARAMETER_TYPE = "A {kind} cannot be sent to Athena as a query parameter."
ERROR_CANNOT_RENDER = "The query cannot be written for Athena: {reason}"
ERROR_QUERY_FAILED = "Athena query {query_id} failed: {reason}"
ERROR_REQUEST_FAILED = "Athena did not run the query: {reason}"

TRINO_DIALECT = Dialect.get_or_raise(TARGET_DIALECTS["athena"])
PARAMETER_MARK = "lake_parameter_"
MART_NAMES = frozenset(mart.name for mart in MARTS)
POLL_SECONDS = 0.5  # between get_query_execution calls while the query runs
ROWS_PER_PAGE = 1000  # GetQueryResults' largest page

# https://aws.amazon.com/athena/pricing/: bytes scanned are rounded up to the
# megabyte, with a 10 MB minimum per query; a reused result scans nothing.
BILLED_BYTES_STEP = 1_000_000
BILLED_BYTES_MINIMUM = 10_000_000
BYTES_PER_TB = Decimal(10**12)
COST_PRECISION = Decimal("0.000001")  # a millionth of a dollar

# Athena's column types (as GetQueryResults names them) as Arrow types; the
# decimal's precision and scale come from the column's metadata.
ARROW_TYPES = {
    "boolean": pa.bool_(),
    "tinyint": pa.int8(),
    "smallint": pa.int16(),
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "real": pa.float32(),
    "float": pa.float32(),
    "double": pa.float64(),
    "char": pa.string(),
    "varchar": pa.string(),
    "string": pa.string(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
    "time": pa.time64("us"),
    "varbinary": pa.binary(),
}


class AthenaQueryEngine(QueryEngine):
    name = "athena"
    dialect = "Athena (Trino)"

    def __init__(self, snapshots: dict[str, int] | None = None) -> None:
        super().__init__(selectors.published_snapshots() if snapshots is None else snapshots)

    def execute(self, sql: str, parameters: list | dict | None = None) -> pa.Table:
        query, values = athena_sql(sql, parameters, self.snapshots)
        return self._run(query, values, timeout=None)

    def sql_as_sent(self, sql: str, parameters: list | dict | None = None) -> str:
        return athena_sql(sql, parameters, self.snapshots)[0]

    def execute_capped(
        self, sql: str, *, limit: int, timeout: float, max_bytes: int | None = None
    ) -> pa.Table:
        check_single_select(sql)
        capped = f"select * from ({without_trailing_semicolon(sql)}) as capped limit {int(limit)}"
        query, values = athena_sql(capped, None, self.snapshots)
        table = self._run(query, values, timeout=timeout)
        if max_bytes is not None and table.nbytes > max_bytes:
            raise QueryError(ERROR_TOO_LARGE.format(size=round(max_bytes / 2**20)))
        return table

    def _run(self, query: str, values: list[str], *, timeout: float | None) -> pa.Table:
        """Run the rendered query; past ``timeout`` seconds it is stopped in Athena."""
        self.last_statistics = {}
        reuse_minutes = settings.ATHENA_RESULT_REUSE_MINUTES
        try:
            cursor = athena_connection().cursor()
            cursor.arraysize = ROWS_PER_PAGE
        except (BotoCoreError, ClientError, PyAthenaError) as error:
            raise QueryError(ERROR_REQUEST_FAILED.format(reason=error)) from None

        def run() -> tuple[list[tuple], list[tuple]]:
            cursor.execute(
                query,
                values,
                paramstyle="qmark",
                result_reuse_enable=reuse_minutes > 0,
                result_reuse_minutes=reuse_minutes or None,
            )
            return cursor.description or [], cursor.fetchall()

        with cursor:
            try:
                if timeout is None:
                    description, rows = run()
                else:
                    description, rows = run_with_timeout(
                        run, stop=lambda: _stop(cursor), close=lambda: None, timeout=timeout
                    )
            except PyAthenaError as error:
                raise _query_error(error, cursor.query_id) from None
            self.last_statistics = query_statistics(
                query_execution_id=cursor.query_id,
                bytes_scanned=cursor.data_scanned_in_bytes or 0,
                result_reused=bool(cursor.reused_previous_result),
            )
        statistics = self.last_statistics
        logger.info(
            "Athena query %s: %s bytes scanned%s",
            statistics["query_execution_id"],
            statistics["bytes_scanned"],
            " (result reused)" if statistics["result_reused"] else "",
        )
        return arrow_table(description, rows)


def _stop(cursor) -> None:
    """Stop the cursor's query in Athena (StopQueryExecution), if it started."""
    if cursor.query_id is None:
        return
    try:
        cursor.cancel()
    except (BotoCoreError, ClientError, PyAthenaError):
        logger.warning("could not stop Athena query %s", cursor.query_id, exc_info=True)


def athena_sql(
    sql: str, parameters: list | dict | None, snapshots: dict[str, int]
) -> tuple[str, list[str]]:
    """``sql`` (one DuckDB SELECT) as Trino SQL with its marts qualified and pinned to
    ``snapshots``, and the ``ExecutionParameters`` of its ``?``s, in order."""
    check_single_select(sql)
    if not any(identifier.startswith("marts.") for identifier in snapshots):
        raise QueryError(ERROR_NO_DATA)
    try:
        tree = sqlglot.parse_one(sql, read=SOURCE_DIALECT)
    except SqlglotError as error:
        raise QueryError(ERROR_CANNOT_RENDER.format(reason=error)) from None
    _pin_marts(tree, catalog_namespace("marts"), snapshots)
    names = _mark_parameters(tree)
    try:
        rendered = TRINO_DIALECT.generate(
            tree, pretty=True, comments=False, unsupported_level=ErrorLevel.RAISE
        )
    except SqlglotError as error:
        raise QueryError(ERROR_CANNOT_RENDER.format(reason=error)) from None
    query, order = _marks_to_qmarks(rendered, names)
    _check_single_trino_select(query, len(order))
    return query, _execution_parameters(order, parameters)


def _pin_marts(tree: exp.Expr, database: str, snapshots: dict[str, int]) -> None:
    """Each table the query reads, a mart: qualified with its Glue database and
    read at its snapshot. CTE names are left alone; anything else is refused."""
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for table in tree.find_all(exp.Table):
        name = table.name.lower()
        qualified = table.args.get("db") or table.args.get("catalog")
        if name in ctes and not qualified:
            continue
        if qualified or name not in MART_NAMES:
            marts = ", ".join(sorted(MART_NAMES))
            raise QueryError(ERROR_NOT_A_MART.format(marts=marts, name=table.sql(SOURCE_DIALECT)))
        snapshot_id = snapshots.get(f"marts.{name}")
        if snapshot_id is None:
            raise QueryError(ERROR_NO_SNAPSHOT.format(name=name))
        table.set("this", exp.to_identifier(name, quoted=True))
        table.set("db", exp.to_identifier(database, quoted=True))
        table.set(
            "version",
            exp.Version(this="VERSION", kind="AS OF", expression=exp.Literal.number(snapshot_id)),
        )


def _mark_parameters(tree: exp.Expr) -> list[str]:
    """Each parameter (``$name``, ``$1``, ``?``) as a numbered marker; their names
    ("" for a bare ``?``) by marker number."""
    names = []
    for parameter in list(tree.find_all(exp.Placeholder, exp.Parameter)):
        parameter.replace(exp.Placeholder(this=f"{PARAMETER_MARK}{len(names)}"))
        names.append(parameter.name if parameter.args.get("this") is not None else "")
    return names


def _marks_to_qmarks(rendered: str, names: list[str]) -> tuple[str, list[str]]:
    """The rendered SQL with each marker (``:lake_parameter_0``) as ``?``, and the
    parameter names in the order of the ``?``s.

    The order is read from the text: the generator writes a query's CTEs after
    its body, so the order it visits the tree in is not the order of the text.
    Markers are found as tokens, so never inside a string literal.
    """
    tokens = TRINO_DIALECT.tokenize(rendered)
    pieces, order, start = [], [], 0
    for colon, name in pairwise(tokens):
        if (
            colon.token_type == TokenType.COLON
            and name.token_type == TokenType.VAR
            and name.start == colon.end + 1
            and name.text.startswith(PARAMETER_MARK)
        ):
            pieces += [rendered[start : colon.start], "?"]
            order.append(names[int(name.text.removeprefix(PARAMETER_MARK))])
            start = name.end + 1
    pieces.append(rendered[start:])
    if len(order) != len(names):
        raise QueryError(ERROR_CANNOT_RENDER.format(reason="its parameters were not all bound"))
    return "".join(pieces), order


def _check_single_trino_select(query: str, parameters: int) -> None:
    """The rendered SQL is still one SELECT, with one ``?`` per parameter noted."""
    try:
        statements = [s for s in TRINO_DIALECT.parse(query) if s is not None]
    except SqlglotError as error:
        raise QueryError(ERROR_CANNOT_RENDER.format(reason=error)) from None
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        kinds = ", ".join(type(statement).__name__.upper() for statement in statements)
        raise QueryError(ERROR_NOT_ONE_SELECT.format(found=kinds or "nothing"))
    if len(list(statements[0].find_all(exp.Placeholder))) != parameters:
        raise QueryError(ERROR_CANNOT_RENDER.format(reason="its parameters were not all bound"))


def _execution_parameters(bound: list[str], parameters: list | dict | None) -> list[str]:
    """The value of each ``?`` in order, as an Athena literal."""
    if not bound:
        return []
    if parameters is None:
        names = sorted({name or "?" for name in bound})
        raise QueryError(ERROR_MISSING_PARAMETER.format(name=", ".join(names)))
    named = [name for name in bound if name and not name.isdigit()]
    if named:
        if not isinstance(parameters, dict) or len(named) != len(bound):
            raise QueryError(
                ERROR_PARAMETER_STYLE.format(used="named", given=type(parameters).__name__)
            )
        missing = sorted({name for name in named if name not in parameters})
        if missing:
            raise QueryError(ERROR_MISSING_PARAMETER.format(name=", ".join(missing)))
        return [athena_literal(parameters[name]) for name in bound]
    if not isinstance(parameters, list | tuple):
        raise QueryError(
            ERROR_PARAMETER_STYLE.format(used="positional", given=type(parameters).__name__)
        )
    positions = [int(name) - 1 if name else index for index, name in enumerate(bound)]
    if any(not 0 <= position < len(parameters) for position in positions):
        raise QueryError(ERROR_MISSING_PARAMETER.format(name=f"number {max(positions) + 1}"))
    return [athena_literal(parameters[position]) for position in positions]


def athena_literal(value) -> str:
    """``value`` as the Trino literal Athena substitutes for a ``?`` (typed, so that
    a date compares with a timestamp as it does in DuckDB)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return f"DECIMAL '{value}'"
    if isinstance(value, float):
        return f"DOUBLE '{value!r}'"
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise QueryError(ERROR_PARAMETER_TYPE.format(kind=type(value).__name__))


def query_statistics(*, query_execution_id: str, bytes_scanned: int, result_reused: bool) -> dict:
    """What a report shows of an Athena query: its id, bytes scanned, whether
    Athena reused an earlier result, and the estimated cost in USD."""
    return {
        "engine": "athena",
        "query_execution_id": query_execution_id,
        "bytes_scanned": bytes_scanned,
        "result_reused": result_reused,
        "cost_usd": query_cost(bytes_scanned, reused=result_reused),
    }


def query_cost(bytes_scanned: int, *, reused: bool = False) -> Decimal:
    """What Athena charges for a query that scanned ``bytes_scanned`` (USD, at
    ``ATHENA_PRICE_PER_TB``), to a millionth of a dollar."""
    if reused:
        return Decimal(0)
    billed = max(-(-bytes_scanned // BILLED_BYTES_STEP) * BILLED_BYTES_STEP, BILLED_BYTES_MINIMUM)
    price = Decimal(str(settings.ATHENA_PRICE_PER_TB))
    cost = (billed * price / BYTES_PER_TB).quantize(COST_PRECISION, ROUND_HALF_UP)
    return Decimal(format(cost.normalize(), "f"))  # 0.00005, not 0.000050 or 5E-5


def arrow_table(description: list[tuple], rows: list[tuple]) -> pa.Table:
    """The rows pyathena converted, as an Arrow table typed from Athena's metadata."""
    columns = {}
    for index, (name, athena_type, _, _, precision, scale, _) in enumerate(description):
        values = [row[index] for row in rows]
        columns[name] = pa.array(values, type=_arrow_type(athena_type, precision, scale))
    return pa.table(columns)


def _arrow_type(athena_type: str, precision: int, scale: int) -> pa.DataType | None:
    """The Arrow type of an Athena column; None (inferred from the values) for the
    nested types (array, map, row, json)."""
    if athena_type == "decimal":
        return (pa.decimal128 if precision <= 38 else pa.decimal256)(precision, scale)
    return ARROW_TYPES.get(athena_type)


@lru_cache(maxsize=4)
def _connection(
    region: str,
    endpoint_url: str,
    work_group: str,
    staging_dir: str,
    poll_seconds: float,
    schema_name: str,
) -> Connection:
    options = {"endpoint_url": endpoint_url} if endpoint_url else {}
    return pyathena.connect(
        region_name=region or None,
        work_group=work_group or None,
        # Queries run in the marts' database, not Athena's "default" (which the
        # app's role may not read: see docs/aws-iam-app.json).
        schema_name=schema_name,
        s3_staging_dir=staging_dir or None,
        poll_interval=poll_seconds,
        config=RETRIES.merge(Config()),  # a copy: pyathena adds its user agent to it
        **options,
    )


def athena_connection() -> Connection:
    """The pyathena connection (thread-safe, one boto3 client) for the current settings."""
    return _connection(
        settings.AWS_REGION,
        settings.AWS_ENDPOINT_URL,
        settings.ATHENA_WORKGROUP,
        settings.ATHENA_S3_STAGING_DIR,
        POLL_SECONDS,
        catalog_namespace("marts"),
    )


def _query_error(error: PyAthenaError, query_id: str | None) -> QueryError:
    """A failed query says Athena's reason (its StateChangeReason); a refused or
    failed request (access denied, no such workgroup) says AWS's message."""
    if error.__cause__ is not None:  # pyathena wraps the boto3 error it caught
        return QueryError(ERROR_REQUEST_FAILED.format(reason=error.__cause__))
    reason = str(error.args[0]) if error.args and error.args[0] else "no reason given"
    return QueryError(ERROR_QUERY_FAILED.format(query_id=query_id or "?", reason=reason))


ENGINE = AthenaQueryEngine
__all__ = [
    "ENGINE",
    "AthenaQueryEngine",
    "athena_connection",
    "athena_literal",
    "athena_sql",
    "query_cost",
    "query_statistics",
]
