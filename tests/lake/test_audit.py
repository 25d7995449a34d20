"""Audit before publish: a run whose data fails its checks publishes nothing,
says why on the command line, the page and the API, and may be published
anyway, for a reason, by a manager."""

import pyarrow as pa
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from lake import selectors, services
from lake.core.checks import Volume, compile_check, load_checks, run_checks
from lake.core.marts import MARTS
from lake.models import PipelineCheck, PipelineRun, PipelineRunEvent
from lake.pipeline import audit
from lake.pipeline.runner import pipeline_run_create, pipeline_run_execute
from lake.pipeline.transform import MARTS_BY_NAME, Transform
from rentals.generator import generate_sakila
from rentals.models import Rental
from sakila_site.roles import MANAGER
from tests.conftest import make_role_user
from tests.lake.conftest import lake_query, run_pipeline
from tests.lake.test_atomicity import published_state
from tests.lake.test_incremental import make_desk_changes

pytestmark = pytest.mark.django_db(transaction=True)


def checks_of(run: PipelineRun) -> dict[str, str]:
    return {f"{c.table}: {c.name}": c.status for c in run.checks.all()}


def test_every_check_passes_on_generated_data_with_changes_and_deletes(sakila_lake):
    first = sakila_lake(scale=0.03, seed=5)
    make_desk_changes()
    Rental.objects.filter(return_date__isnull=False).first().delete()  # its payments stay

    later = run_pipeline()

    for run in (first, later):
        statuses = checks_of(run)
        assert len(statuses) == len(load_checks())
        assert set(statuses.values()) == {"passed"}, statuses
    assert "56 checks: 56 passed" in later.steps.get(name="checks").log.replace(
        str(len(load_checks())), "56"
    )


def test_every_check_passes_on_the_real_sakila_data(lake, real_sakila_dir):
    call_command("load_sakila", str(real_sakila_dir))
    run = run_pipeline()
    assert set(checks_of(run).values()) == {"passed"}


def test_a_duplicated_row_is_not_published_and_the_next_run_starts_from_what_was(
    sakila_lake, settings, capsys
):
    published = sakila_lake(scale=0.03, seed=5)
    make_desk_changes()
    before = published_state()

    settings.LAKE_FAULT_INJECTION = audit.DUPLICATE_FAULT
    with pytest.raises(CommandError, match=r"ended with checks failed .*one row per rental_id"):
        call_command("lake", "run")

    failed = PipelineRun.objects.latest("pk")
    assert failed.status == PipelineRun.Status.CHECKS_FAILED
    assert published_state() == before
    assert selectors.published_run() == published
    assert failed.events.filter(action=PipelineRunEvent.Action.CHECKS_FAILED).exists()
    grain = failed.checks.get(table="fact_sales", kind="grain")
    assert (grain.status, grain.failing, grain.rows[0]["row_count"]) == ("failed", 1, 2)
    assert "group by rental_id" in grain.sql

    capsys.readouterr()
    with pytest.raises(CommandError, match="checks of error severity failed") as exit_code:
        call_command("lake", "checks")
    assert exit_code.value.returncode == 1
    out = capsys.readouterr().out
    assert f"Run {failed.pk} (checks failed)" in out
    assert "failed  error fact_sales: one row per rental_id, never null (1 rows)" in out

    settings.LAKE_FAULT_INJECTION = ""
    caught_up = run_pipeline()
    assert set(checks_of(caught_up).values()) == {"passed"}
    assert lake_query("select count(*) - count(distinct rental_id) as extra from fact_sales") == [
        {"extra": 0}
    ]
    call_command("lake", "checks")  # the last run's checks passed: exit 0


def a_manager():
    """A manager's login, made after the data (the fixture's store would be in its way)."""
    return make_role_user(MANAGER, username="manager")


def test_a_failed_warning_publishes_with_a_flag_on_the_page(lake, monkeypatch, client):
    generate_sakila(scale=0.03, seed=10)
    manager = a_manager()
    warning = compile_check(
        "fact_sales",
        {"kind": "range", "column": "amount", "max": 1, "severity": "warn", "name": "small"},
    )
    monkeypatch.setattr(audit, "load_checks", lambda: [*load_checks(), warning])

    run = run_pipeline()

    assert run.status == PipelineRun.Status.SUCCEEDED
    assert checks_of(run)["fact_sales: small"] == "warned"
    client.force_login(manager)
    html = client.get(reverse("lake:run", args=[run.pk])).content.decode()
    assert "1 warned" in html and "amount &gt; 1" in html
    assert "Publish anyway" not in html


def test_a_manager_publishes_a_run_anyway_for_a_reason(sakila_lake, settings, client):
    sakila_lake(scale=0.03, seed=5)
    manager = a_manager()
    make_desk_changes()
    settings.LAKE_FAULT_INJECTION = audit.DUPLICATE_FAULT
    failed = pipeline_run_execute(pipeline_run_create())
    settings.LAKE_FAULT_INJECTION = ""
    assert failed.status == PipelineRun.Status.CHECKS_FAILED
    client.force_login(manager)
    page = reverse("lake:run", args=[failed.pk])
    html = client.get(page).content.decode()
    assert "Snapshots written, not published" in html and "Publish run" in html
    assert "one row per rental_id, never null" in html and "row_count" in html

    publish = reverse("lake:run-publish", args=[failed.pk])
    client.post(publish, {"reason": "  "})
    failed.refresh_from_db()
    assert failed.status == PipelineRun.Status.CHECKS_FAILED

    client.post(publish, {"reason": "The duplicate is a known test artefact."})

    failed.refresh_from_db()
    assert failed.status == PipelineRun.Status.SUCCEEDED
    assert selectors.published_run() == failed
    event = failed.events.get(action=PipelineRunEvent.Action.PUBLISHED_ANYWAY)
    assert (event.user, event.message) == (manager, "The duplicate is a known test artefact.")
    assert failed.checks.filter(status=PipelineCheck.Status.FAILED).exists()  # still recorded
    with pytest.raises(services.RunStateError, match="only a run whose checks failed"):
        services.pipeline_run_publish_anyway(run=failed, user=manager, reason="again")


def test_a_run_cannot_be_published_anyway_once_another_has_run(sakila_lake, settings, client):
    sakila_lake(scale=0.03, seed=5)
    manager = a_manager()
    settings.LAKE_FAULT_INJECTION = audit.DUPLICATE_FAULT
    failed = pipeline_run_execute(pipeline_run_create())
    settings.LAKE_FAULT_INJECTION = ""
    later = run_pipeline()

    with pytest.raises(services.RunStateError, match=f"Run {later.pk} has run since"):
        services.pipeline_run_publish_anyway(run=failed, user=manager, reason="needed")

    client.force_login(manager)
    response = client.post(
        f"/api/lake/runs/{failed.pk}/publish/",
        {"reason": "needed"},
        content_type="application/json",
    )
    assert response.status_code == 409
    assert f"Run {later.pk} has run since" in response.json()["detail"]
    detail = client.get(f"/api/lake/runs/{failed.pk}/").json()
    assert detail["status"] == "checks_failed"
    assert {"table": "fact_sales", "kind": "grain", "status": "failed"}.items() <= next(
        check for check in detail["checks"] if check["kind"] == "grain" and check["failing"]
    ).items()


# --- An incremental run checks the rows it wrote ---------------------------------------


def scoped_outcomes(marts: dict[str, list[dict]], written: dict[str, list[int]]) -> dict:
    """Every check of an incremental run over the given marts' rows (the others
    empty), ``written`` the keys the run wrote per mart: failing rows by check."""
    with Transform({}, full=False, as_of=timezone.now()) as transform:
        for mart in MARTS:
            rows = marts.get(mart.name, [])
            transform.con.register(mart.name, pa.Table.from_pylist(rows, schema=mart.schema))
        for name, keys in written.items():
            key = MARTS_BY_NAME[name].key
            transform.con.register(f"{name}_keys", pa.table({key: pa.array(keys, pa.int32())}))
            transform.registered_keys.add(name)
        scope = audit.RunScope(transform, dim_date_rebuilt=False)
        checks = [scope.check(check, load_checks()) for check in load_checks()]
        results = run_checks(
            [c for c in checks if c.kind in ("grain", "relationship")],
            lambda sql: transform.query(sql).to_pylist(),
            Volume(rows={}, published_rows={}, deleted={}),
        )
    return {f"{r.check.table}: {r.check.name}": r.rows for r in results if r.status != "passed"}


def test_an_incremental_run_checks_the_rows_of_the_keys_it_wrote():
    sales = [{"rental_id": 1, "customer_id": 7}, {"rental_id": 1, "customer_id": 7},
             {"rental_id": 2, "customer_id": 7}, {"rental_id": 2, "customer_id": 7}]  # fmt: skip
    customers = [{"customer_id": 7, "store_id": None}]

    failing = scoped_outcomes({"fact_sales": sales, "dim_customer": customers}, {"fact_sales": [2]})

    # Rental 1's rows were published as they are (and passed then): not read again.
    assert failing == {
        "fact_sales: one row per rental_id, never null": [{"rental_id": 2, "row_count": 2}]
    }


def test_rows_pointing_at_a_key_the_run_deleted_and_rows_without_a_key_are_read():
    sales = [{"rental_id": 1, "customer_id": 7}, {"rental_id": 2, "customer_id": 8},
             {"rental_id": None, "customer_id": 8}]  # fmt: skip
    customers = [{"customer_id": 8, "store_id": None}]  # 7 is gone: the run deleted it

    failing = scoped_outcomes(
        {"fact_sales": sales, "dim_customer": customers}, {"dim_customer": [7, 8]}
    )

    assert failing == {
        "fact_sales: every customer_id is in dim_customer": [{"customer_id": 7, "row_count": 1}],
        "fact_sales: one row per rental_id, never null": [{"rental_id": None, "row_count": 1}],
    }


def test_a_full_run_checks_whole_tables_and_an_incremental_one_says_what_it_read(sakila_lake):
    full = sakila_lake(scale=0.02, seed=11)
    make_desk_changes()
    incremental = run_pipeline()

    grain = "one row per rental_id, never null"
    assert not full.checks.get(table="fact_sales", name=grain).sql.startswith("--")
    scoped = incremental.checks.get(table="fact_sales", name=grain)
    assert scoped.sql.startswith("-- incremental run: the rows of the rental_ids it wrote")
    assert "from scoped_fact_sales" in scoped.sql
    unscoped = incremental.checks.get(table="fact_sales", name="a row for every rental read")
    assert "scoped" not in unscoped.sql
