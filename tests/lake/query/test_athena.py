"""The Athena query backend, against moto's Athena in server mode.

moto runs no SQL: it records each execution (query string, ExecutionParameters)
and answers with the results queued through its /moto-api, header row first as
Athena does. What moto cannot produce (a FAILED state with its reason, bytes
scanned, a reused result) is stubbed with botocore's Stubber.
"""

import json
from datetime import date, datetime
from decimal import Decimal
from html import unescape
from io import StringIO
from types import SimpleNamespace

import pyarrow as pa
import pytest
import requests
import sqlglot
from botocore.stub import Stubber
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags
from rest_framework.test import APIClient
from sqlglot import exp

from lake.aws.clients import aws_client
from lake.core.marts import MARTS
from lake.models import PipelineRun
from lake.query import QueryError, get_query_engine
from lake.query.athena import (
    AthenaQueryEngine,
    athena_connection,
    athena_literal,
    athena_sql,
    query_cost,
)
from reports.registry import (
    CUSTOMER_SQL,
    DASHBOARD_SQL,
    LAST_DAY_SQL,
    REPORTS,
    STORE_NAMES_SQL,
)
from sakila_site.roles import MANAGER
from tests.conftest import make_role_user

WORKGROUP = "sakila-lake-test"
RESULTS_BUCKET = "sakila-athena-results"
DATABASE = "sakila_marts"
SNAPSHOTS = {f"marts.{mart.name}": 7_000_000_000_000_000_000 + n for n, mart in enumerate(MARTS)}
# Distinct values, so that a parameter bound to the wrong ? shows.
REPORT_VALUES = {
    "start": date(2005, 5, 24),
    "end": date(2005, 8, 31),
    "store": 2,
    "top": 5,
    "film": 7,
    "customer": 9,
    "rows": 500,
    "category": "Action",
}


@pytest.fixture
def athena(aws, settings):
    """QUERY_ENGINE=athena on moto: a results bucket and a workgroup writing to it."""
    settings.QUERY_ENGINE = "athena"
    settings.LAKE_CATALOG = "glue"
    settings.GLUE_DATABASE = "sakila"
    settings.ATHENA_WORKGROUP = WORKGROUP
    settings.ATHENA_S3_STAGING_DIR = f"s3://{RESULTS_BUCKET}/queries/"
    settings.ATHENA_RESULT_REUSE_MINUTES = 30
    settings.ATHENA_PRICE_PER_TB = 5.0
    aws_client("s3").create_bucket(Bucket=RESULTS_BUCKET)
    aws_client("athena").create_work_group(
        Name=WORKGROUP,
        Configuration={"ResultConfiguration": {"OutputLocation": settings.ATHENA_S3_STAGING_DIR}},
    )
    return aws


@pytest.fixture
def sent(athena):
    """The StartQueryExecution requests the engine sends, as boto3 parameters."""
    requests_sent: list[dict] = []

    def record(params, **kwargs):
        requests_sent.append(dict(params))

    events = athena_connection().client.meta.events
    events.register("provide-client-params.athena.StartQueryExecution", record)
    yield requests_sent
    events.unregister("provide-client-params.athena.StartQueryExecution", record)


def queue_results(moto_url: str, *results: tuple[list[tuple], list[tuple]]) -> None:
    """Queue query results in moto: each (columns, rows), a column (name, type[,
    precision, scale]); as Athena does, the first row holds the column names."""
    queued = []
    for columns, rows in results:
        column_info = []
        for name, athena_type, *size in columns:
            precision, scale = size or (0, 0)
            column_info.append(
                {
                    "Name": name,
                    "Label": name,
                    "Type": athena_type,
                    "Precision": precision,
                    "Scale": scale,
                    "Nullable": "UNKNOWN",
                    "CaseSensitive": athena_type == "varchar",
                }
            )
        header = [[column[0] for column in columns]]
        data = [
            {"Data": [{} if value is None else {"VarCharValue": str(value)} for value in row]}
            for row in header + [list(row) for row in rows]
        ]
        queued.append({"rows": data, "column_info": column_info})
    response = requests.post(
        f"{moto_url}/moto-api/static/athena/query-results", json={"results": queued}, timeout=10
    )
    assert response.status_code == 201


def executions() -> list[dict]:
    """What moto recorded of each query run in the workgroup, oldest first."""
    client = aws_client("athena")
    ids = client.list_query_executions(WorkGroup=WORKGROUP)["QueryExecutionIds"]
    return [client.get_query_execution(QueryExecutionId=id_)["QueryExecution"] for id_ in ids]


def qualified_tables(sql: str) -> list[exp.Table]:
    """The tables a Trino query reads (its CTEs left out)."""
    tree = sqlglot.parse_one(sql, read="trino")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return [table for table in tree.find_all(exp.Table) if table.name not in ctes]


TOP_FILMS_COLUMNS = [
    ("position", "bigint"),
    ("film_id", "integer"),
    ("title", "varchar"),
    ("category", "varchar"),
    ("rentals", "bigint"),
    ("revenue", "decimal", 38, 2),
]


def test_rows_come_back_with_their_types(athena):
    queue_results(
        athena,
        (
            TOP_FILMS_COLUMNS,
            [
                (1, 103, "BUCKET BROTHERHOOD", "Travel", 34, "181.66"),
                (2, 365, "GOLDEN", None, 3, 0),
            ],
        ),
        (
            [
                ("full_date", "date"),
                ("is_weekend", "boolean"),
                ("late_share", "double"),
                ("rental_date", "timestamp"),
            ],
            [("2005-05-28", "true", 0.25, "2005-05-28 10:35:23.000"), (None, "false", None, None)],
        ),
    )
    engine = get_query_engine(SNAPSHOTS)
    assert isinstance(engine, AthenaQueryEngine)

    table = engine.execute(REPORTS["top_films"].sql, REPORT_VALUES)
    assert table.schema == pa.schema(
        [
            ("position", pa.int64()),
            ("film_id", pa.int32()),
            ("title", pa.string()),
            ("category", pa.string()),
            ("rentals", pa.int64()),
            ("revenue", pa.decimal128(38, 2)),
        ]
    )
    assert table.to_pylist() == [
        {
            "position": 1,
            "film_id": 103,
            "title": "BUCKET BROTHERHOOD",
            "category": "Travel",
            "rentals": 34,
            "revenue": Decimal("181.66"),
        },
        {
            "position": 2,
            "film_id": 365,
            "title": "GOLDEN",
            "category": None,
            "rentals": 3,
            "revenue": Decimal("0.00"),
        },
    ]

    table = engine.execute(
        "select d.full_date, d.is_weekend, 0.25 as late_share, f.rental_date "
        "from fact_sales f join dim_date d on d.date_id = f.date_sales_id limit 2"
    )
    assert [field.type for field in table.schema] == [
        pa.date32(),
        pa.bool_(),
        pa.float64(),
        pa.timestamp("us"),
    ]
    assert table.to_pylist() == [
        {
            "full_date": date(2005, 5, 28),
            "is_weekend": True,
            "late_share": 0.25,
            "rental_date": datetime(2005, 5, 28, 10, 35, 23),
        },
        {"full_date": None, "is_weekend": False, "late_share": None, "rental_date": None},
    ]


def test_the_query_reads_each_mart_at_the_runs_snapshot_with_parameters_bound(athena, sent):
    queue_results(athena, (TOP_FILMS_COLUMNS, []))
    get_query_engine(SNAPSHOTS).execute(REPORTS["top_films"].sql, REPORT_VALUES)

    (execution,) = executions()
    query = execution["Query"]
    pinned = {
        (table.db, table.name, table.args["version"].expression.to_py())
        for table in qualified_tables(query)
    }
    assert pinned == {
        (DATABASE, "fact_sales", SNAPSHOTS["marts.fact_sales"]),
        (DATABASE, "dim_film", SNAPSHOTS["marts.dim_film"]),
    }
    assert f'"{DATABASE}"."fact_sales" FOR VERSION AS OF {SNAPSHOTS["marts.fact_sales"]}' in query
    assert "2005" not in query and "$" not in query
    assert query.count("?") == 9
    assert execution["ExecutionParameters"] == [
        "DATE '2005-05-24'",
        "DATE '2005-05-24'",
        "DATE '2005-08-31'",
        "DATE '2005-08-31'",
        "2",
        "2",
        "'Action'",
        "'Action'",
        "5",
    ]
    assert execution["WorkGroup"] == WORKGROUP

    (request,) = sent
    assert request["ResultReuseConfiguration"] == {
        "ResultReuseByAgeConfiguration": {"Enabled": True, "MaxAgeInMinutes": 30}
    }
    assert request["ResultConfiguration"]["OutputLocation"] == f"s3://{RESULTS_BUCKET}/queries/"
    assert request["ExecutionParameters"] == execution["ExecutionParameters"]
    # In the marts' database: Athena's "default" needs grants the app's role lacks.
    assert request["QueryExecutionContext"]["Database"] == DATABASE


def test_a_string_parameter_is_a_quoted_literal_never_part_of_the_sql(athena):
    title = "O'Brien'); drop table dim_film; --"
    AthenaQueryEngine(SNAPSHOTS).execute(
        "select film_id from dim_film where title = $title", {"title": title}
    )
    (execution,) = executions()
    assert "Brien" not in execution["Query"]
    assert execution["ExecutionParameters"] == ["'O''Brien''); drop table dim_film; --'"]
    assert athena_literal(None) == "NULL"
    assert athena_literal(Decimal("4.99")) == "DECIMAL '4.99'"
    assert athena_literal(True) == "TRUE"


def test_result_reuse_is_off_at_zero_minutes(athena, sent, settings):
    settings.ATHENA_RESULT_REUSE_MINUTES = 0
    AthenaQueryEngine(SNAPSHOTS).execute(STORE_NAMES_SQL.read_text())
    (request,) = sent
    assert "ResultReuseConfiguration" not in request
    assert "ExecutionParameters" not in request  # the query has none


def test_the_engine_keeps_the_query_figures_and_the_cost(athena):
    engine = AthenaQueryEngine(SNAPSHOTS)
    engine.execute(STORE_NAMES_SQL.read_text())
    (execution,) = executions()
    # moto scans nothing; Athena bills 10 MB at least.
    assert engine.last_statistics == {
        "engine": "athena",
        "query_execution_id": execution["QueryExecutionId"],
        "bytes_scanned": 0,
        "result_reused": False,
        "cost_usd": Decimal("0.00005"),
    }


@pytest.mark.parametrize(
    ("bytes_scanned", "price", "reused", "cost"),
    [
        (1_200_000, 5.0, False, "0.00005"),  # under the 10 MB minimum
        (123_400_001, 5.0, False, "0.00062"),  # rounded up to the MB: 124 MB
        (10**12, 5.0, False, "5"),
        (3 * 10**12, 6.25, False, "18.75"),
        (0, 5.0, True, "0"),  # a reused result scans nothing
    ],
)
def test_cost_estimate(settings, bytes_scanned, price, reused, cost):
    settings.ATHENA_PRICE_PER_TB = price
    assert str(query_cost(bytes_scanned, reused=reused)) == cost


def stub_query(stubber: Stubber, *, state: str, reason: str = "", statistics: dict | None = None):
    stubber.add_response("start_query_execution", {"QueryExecutionId": "q-1"})
    status = {"State": state} | ({"StateChangeReason": reason} if reason else {})
    execution = {
        "QueryExecutionId": "q-1",
        "Query": "SELECT ...",
        "StatementType": "DML",
        "WorkGroup": WORKGROUP,
        "Status": status,
        "Statistics": statistics or {},
    }
    stubber.add_response("get_query_execution", {"QueryExecution": execution})


def test_a_failed_query_is_a_query_error_with_athenas_reason(athena):
    reason = (
        "TABLE_NOT_FOUND: line 6:8: Table 'awsdatacatalog.sakila_marts.fact_sales' does not exist"
    )
    with Stubber(athena_connection().client) as stubber:
        stub_query(stubber, state="FAILED", reason=reason)
        with pytest.raises(QueryError) as failed:
            AthenaQueryEngine(SNAPSHOTS).execute(REPORTS["sales_by_store"].sql, REPORT_VALUES)
    assert str(failed.value) == f"Athena query q-1 failed: {reason}"


def test_a_refused_request_is_a_query_error_with_awss_message(athena, settings):
    with Stubber(athena_connection().client) as stubber:
        stubber.add_client_error(
            "start_query_execution",
            service_error_code="AccessDeniedException",
            service_message="User: arn:aws:iam::123456789012:user/reports is not authorized",
        )
        with pytest.raises(QueryError, match="AccessDeniedException.*is not authorized"):
            AthenaQueryEngine(SNAPSHOTS).execute(STORE_NAMES_SQL.read_text())

    settings.ATHENA_WORKGROUP = "no-such-workgroup"  # moto refuses this one itself
    with pytest.raises(
        QueryError, match="Athena did not run the query: .*WorkGroup does not exist"
    ):
        AthenaQueryEngine(SNAPSHOTS).execute(STORE_NAMES_SQL.read_text())


def test_a_reused_result_costs_nothing(athena):
    statistics = {"DataScannedInBytes": 0, "ResultReuseInformation": {"ReusedPreviousResult": True}}
    with Stubber(athena_connection().client) as stubber:
        stub_query(stubber, state="SUCCEEDED", statistics=statistics)
        columns = [
            {
                "Name": "store_id",
                "Type": "bigint",
                "Precision": 19,
                "Scale": 0,
                "Nullable": "UNKNOWN",
            }
        ]
        rows = [{"Data": [{"VarCharValue": "store_id"}]}, {"Data": [{"VarCharValue": "1"}]}]
        stubber.add_response(
            "get_query_results",
            {"ResultSet": {"Rows": rows, "ResultSetMetadata": {"ColumnInfo": columns}}},
        )
        engine = AthenaQueryEngine(SNAPSHOTS)
        assert engine.execute("select store_id from dim_store").to_pylist() == [{"store_id": 1}]
    assert engine.last_statistics["result_reused"] is True
    assert engine.last_statistics["cost_usd"] == 0


@pytest.mark.parametrize(
    "sql", ["select * from rental", "select * from staging.rental", "select 1; select 2"]
)
def test_only_one_select_of_the_marts_is_sent(athena, sql):
    with pytest.raises(QueryError):
        AthenaQueryEngine(SNAPSHOTS).execute(sql)
    assert executions() == []


def test_no_published_run_means_no_data(db, settings):
    settings.LAKE_CATALOG = "glue"
    with pytest.raises(QueryError, match="run the pipeline first"):
        AthenaQueryEngine().execute(STORE_NAMES_SQL.read_text())


def bind(query: str, parameters: list[str]) -> str:
    """The values written into the ?s, in order: what Athena runs (test-only)."""
    parts = query.split("?")
    assert len(parts) == len(parameters) + 1
    return "".join(part + value for part, value in zip(parts, [*parameters, ""], strict=True))


# Each SQL the report pages run: (SQL, its parameters).
PAGE_SQL = {name: (report.sql, [p.name for p in report.params]) for name, report in REPORTS.items()}
PAGE_SQL["dashboard"] = (DASHBOARD_SQL.read_text(), ["start", "end", "store"])
PAGE_SQL["customer"] = (CUSTOMER_SQL.read_text(), ["customer"])
PAGE_SQL["last_day"] = (LAST_DAY_SQL.read_text(), [])


@pytest.mark.parametrize("name", sorted(PAGE_SQL))
def test_every_report_renders_for_athena(name, settings):
    settings.LAKE_CATALOG = "glue"
    settings.GLUE_DATABASE = "sakila"
    sql, names = PAGE_SQL[name]
    values = {name: REPORT_VALUES[name] for name in names}
    query, parameters = athena_sql(sql, values, SNAPSHOTS)

    tree = sqlglot.parse_one(query, read="trino")
    assert isinstance(tree, exp.Query)
    tables = qualified_tables(query)
    assert tables
    for table in tables:
        assert table.db == DATABASE
        assert table.args["version"].expression.to_py() == SNAPSHOTS[f"marts.{table.name}"]
    # Trino adds only intervals to dates (date + 1 is an error there).
    for add in tree.find_all(exp.Add):
        assert not (isinstance(add.expression, exp.Literal) and add.expression.is_int), add.sql()
    # Athena takes ? parameters only in WHERE clauses.
    for placeholder in tree.find_all(exp.Placeholder):
        assert placeholder.find_ancestor(exp.Where) is not None

    # Bound in order: the same query as with the values written in.
    literal = sqlglot.parse_one(sql, read="duckdb")
    for placeholder in list(literal.find_all(exp.Placeholder)):
        value = athena_literal(values[placeholder.name])
        placeholder.replace(sqlglot.parse_one(value, read="trino"))
    expected, none = athena_sql(literal.sql("duckdb"), None, SNAPSHOTS)
    assert none == []
    normal = [
        sqlglot.transpile(sql, read="trino", write="trino")[0]
        for sql in (expected, bind(query, parameters))
    ]
    assert normal[0] == normal[1]


@pytest.mark.django_db
@pytest.mark.usefixtures("empty_cache")
def test_the_report_page_and_api_show_the_scanned_bytes_and_cost(athena):
    run = PipelineRun.objects.create(
        status=PipelineRun.Status.SUCCEEDED, snapshots=SNAPSHOTS, finished_at=timezone.now()
    )
    queue_results(
        athena,
        ([("store_id", "bigint"), ("store", "varchar")], [(1, "Lethbridge, Canada")]),
        (
            [
                ("store_id", "bigint"),
                ("store", "varchar"),
                ("manager", "varchar"),
                ("total_sales", "decimal", 38, 2),
            ],
            [(1, "Lethbridge, Canada", "Mike Hillyer", "33679.79")],
        ),
    )
    user = make_role_user(MANAGER, username="manager")
    page = APIClient()
    page.force_login(user)

    response = page.get(reverse("reports:report", args=["sales_by_store"]))
    assert response.status_code == 200
    words = " ".join(unescape(strip_tags(response.content.decode())).split())
    store_names, report = executions()  # the store filter's options, then the report
    assert [table.name for table in qualified_tables(store_names["Query"])] == ["dim_store"]
    assert "1: Lethbridge, Canada" in words
    assert "Data as of run" in words and f"run {run.pk}" in words
    assert "33,679.79" in words
    assert f"Scanned 0 bytes · est. $0.00005 · Athena query {report['QueryExecutionId']}" in words
    # The SQL shown under the report is what Athena ran.
    assert "Athena (Trino) SQL on the lake's marts, as sent" in words
    assert (
        f'"{DATABASE}"."fact_sales" FOR VERSION AS OF {SNAPSHOTS["marts.fact_sales"]}'
        in unescape(response.content.decode())
    )
    assert "(result reused)" not in words

    body = page.get("/api/reports/sales_by_store/").json()
    assert body["from_cache"] is True  # the figures of the query that computed the rows
    assert body["rows"] == [
        {
            "store_id": 1,
            "store": "Lethbridge, Canada",
            "manager": "Mike Hillyer",
            "total_sales": "33679.79",
        }
    ]
    assert body["meta"] == {
        "snapshots": SNAPSHOTS,
        "engine": "athena",
        "query_execution_id": report["QueryExecutionId"],
        "bytes_scanned": 0,
        "result_reused": False,
        "cost_usd": "0.00005",
    }


def test_a_console_query_reads_one_row_past_the_limit(athena):
    queue_results(athena, ([("title", "varchar")], [("ACADEMY DINOSAUR",), ("ACE GOLDFINGER",)]))
    engine = AthenaQueryEngine(SNAPSHOTS)
    table = engine.execute_capped("select title from dim_film;", limit=2, timeout=30)
    assert table.column("title").to_pylist() == ["ACADEMY DINOSAUR", "ACE GOLDFINGER"]
    (execution,) = executions()
    tree = sqlglot.parse_one(execution["Query"], read="trino")
    assert tree.args["limit"].expression.this == "2"
    (table_read,) = qualified_tables(execution["Query"])
    assert table_read.db == DATABASE and table_read.name == "dim_film"
    assert engine.last_statistics["query_execution_id"] == execution["QueryExecutionId"]


def test_a_console_query_past_the_time_limit_is_stopped_in_athena(athena):
    """moto's queries succeed at once: its GetQueryExecution is answered here
    with RUNNING until the engine has called StopQueryExecution (on moto)."""
    stopped: list[str] = []
    client = athena_connection().client

    def record_stop(params, **kwargs):  # params: the HTTP request about to be sent
        stopped.append(json.loads(params["body"])["QueryExecutionId"])

    def running_until_stopped(params, **kwargs):
        state = "CANCELLED" if stopped else "RUNNING"
        execution = {
            "QueryExecutionId": json.loads(params["body"])["QueryExecutionId"],
            "Query": "SELECT ...",
            "StatementType": "DML",
            "WorkGroup": WORKGROUP,
            "Status": {"State": state},
            "Statistics": {},
        }
        return SimpleNamespace(status_code=200), {"QueryExecution": execution}

    client.meta.events.register("before-call.athena.StopQueryExecution", record_stop)
    client.meta.events.register("before-call.athena.GetQueryExecution", running_until_stopped)
    try:
        with pytest.raises(QueryError, match=r"The query was stopped after 0.3 s"):
            AthenaQueryEngine(SNAPSHOTS).execute_capped(
                "select count(*) from fact_sales", limit=1001, timeout=0.3
            )
    finally:
        client.meta.events.unregister("before-call.athena.GetQueryExecution", running_until_stopped)
        client.meta.events.unregister("before-call.athena.StopQueryExecution", record_stop)
    (execution,) = executions()
    assert stopped == [execution["QueryExecutionId"]]


@pytest.mark.django_db
@pytest.mark.usefixtures("empty_cache")
def test_the_report_command_says_what_athena_scanned(athena):
    PipelineRun.objects.create(
        status=PipelineRun.Status.SUCCEEDED, snapshots=SNAPSHOTS, finished_at=timezone.now()
    )
    queue_results(
        athena,
        (
            [("store_id", "bigint"), ("store", "varchar"), ("total_sales", "decimal", 38, 2)],
            [(1, "Lethbridge, Canada", "33679.79")],
        ),
    )
    out, err = StringIO(), StringIO()
    call_command("report", "sales_by_store", stdout=out, stderr=err)
    assert out.getvalue().splitlines() == [
        "store_id,store,total_sales", "1,\"Lethbridge, Canada\",33679.79",
    ]  # fmt: skip
    assert "1 rows as of run" in err.getvalue()
    assert "Athena scanned 0 bytes (est. $0.00005)" in err.getvalue()
