import os
import re
import socket
import subprocess

import pytest
from django.core.management import CommandError, call_command

from lake.catalog import load_table
from lake.core.table_maintenance import storage_usage
from lake.models import PipelineRun
from rentals.generator import generate_sakila

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def data(lake):
    generate_sakila(scale=0.02, seed=2)


@pytest.fixture
def published(sakila_lake):
    """The same data, and a pipeline run (built once per session): the run."""
    return sakila_lake(scale=0.02, seed=11)


def test_lake_run_prints_a_summary_per_step(data, capsys):
    call_command("lake", "run")
    out = capsys.readouterr().out
    assert "extract rental" in out and "fact_sales" in out and "crawl" in out
    assert "succeeded in" in out
    assert PipelineRun.objects.get().status == "succeeded"


def test_lake_run_fails_with_the_error(data, settings, capsys):
    settings.LAKE_FAULT_INJECTION = "fact_sales:raise"
    with pytest.raises(
        CommandError, match="failed after .* InjectedFault: fault injected at fact_sales"
    ):
        call_command("lake", "run")
    assert re.search(r"\nfact_sales +failed", capsys.readouterr().out)


def test_a_second_run_is_refused_while_one_is_running(data):
    active = PipelineRun.objects.create(
        status="running", host=socket.gethostname(), pid=os.getpid()
    )
    with pytest.raises(CommandError, match=f"Run {active.pk} is already running"):
        call_command("lake", "run")
    assert PipelineRun.objects.count() == 1


def test_a_run_whose_process_died_is_marked_failed_and_a_new_run_starts(data):
    finished = subprocess.run(["true"], check=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = PipelineRun.objects.create(status="running", host=socket.gethostname(), pid=dead.pid)
    assert finished.returncode == 0
    call_command("lake", "run")
    stale.refresh_from_db()
    assert stale.status == "failed"
    assert "stopped (killed or crashed)" in stale.error
    assert PipelineRun.objects.filter(status="succeeded").count() == 1


def test_lake_query_prints_csv(published, capsys):
    call_command(
        "lake",
        "query",
        "select store_id, count(*) as rentals from fact_sales group by 1 order by 1",
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "store_id,rentals"
    assert [line.split(",")[0] for line in lines[1:]] == ["1", "2"]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "delete from fact_sales",
            "Only a single SELECT statement can run on the lake (found: DELETE)",
        ),
        (
            "select 1; select 2",
            "Only a single SELECT statement can run on the lake (found: SELECT, SELECT)",
        ),
        ("select * from read_csv('/etc/passwd')", "Permission Error"),
        ("copy fact_sales to '/tmp/x.csv'", "found: COPY"),
        ("attach '/tmp/x.db'", "found: ATTACH"),
        ("select * from nowhere", "Table with name nowhere does not exist"),
        ("selec 1", "Parser Error"),
    ],
)
def test_lake_query_refuses_what_is_not_a_read(published, sql, message):
    with pytest.raises(CommandError) as error:
        call_command("lake", "query", sql)
    assert message in str(error.value)


def test_lake_query_before_any_run(data):
    with pytest.raises(CommandError, match="The lake has no data yet"):
        call_command("lake", "query", "select 1")


def test_lake_tables_lists_tables_rows_snapshots_and_schemas(published, capsys):
    run = published
    call_command("lake", "tables")
    out = capsys.readouterr().out
    assert f"Published by run {run.pk}" in out
    assert (
        f"marts.fact_sales  rows {run.steps.get(name='fact_sales').rows}  snapshot {run.snapshots['marts.fact_sales']}"
        in out
    )
    assert "    amount                decimal(9, 2)" in out
    assert "raw.rental  1 partitions  schema v1" in out


def test_lake_tables_shows_files_and_bytes_per_table(published, capsys):
    run = published
    call_command("lake", "tables")
    out = capsys.readouterr().out
    table = load_table("marts.fact_sales")
    summary = table.snapshot_by_id(run.snapshots["marts.fact_sales"]).summary
    files, size = storage_usage(table)
    line = next(line for line in out.splitlines() if line.startswith("marts.fact_sales "))
    assert f"data {summary['total-data-files']} files" in line
    assert f"stored {files} files ({size / 1e6:.1f} MB" in line
    assert files > int(summary["total-data-files"])  # metadata and manifests too


def test_lake_query_prints_lists_as_text_within_the_consoles_limits(published, capsys, settings):
    call_command(
        "lake", "query", "select list(store_id order by store_id) as stores from dim_store"
    )
    assert capsys.readouterr().out.splitlines() == ["stores", '"[1, 2]"']
    settings.SQL_CONSOLE_EXPORT_MAX_BYTES = 32 * 2**20
    with pytest.raises(CommandError, match="The result is larger than 32 MB"):
        call_command("lake", "query", "SELECT i, repeat('x', 1000000) FROM range(1000) t(i)")
    settings.SQL_CONSOLE_TIMEOUT_SECONDS = 0.3
    with pytest.raises(CommandError, match="stopped after 0.3 s"):
        call_command(
            "lake", "query", "select sum(a.range * b.range) from range(1000000) a, range(1000000) b"
        )
