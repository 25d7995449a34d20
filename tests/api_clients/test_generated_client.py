"""A Python client generated from the schema the stack serves (openapi-python-client),
driven against that stack as a clerk and as a manager would use it: only the
generated functions and models, never raw HTTP, and no edit to what it generated.
"""

import csv
import datetime
import importlib
import io
import json
import time
import uuid
from decimal import Decimal
from typing import Any

import pytest

from tests.api_clients.conftest import PACKAGE, GeneratedClient, demo_password
from tests.stack import Stack

pytestmark = pytest.mark.clients

DAYS_LATE = 3
RUN_TIMEOUT_SECONDS = 180  # a run takes 5-20 s here; a busy machine, more
RUN_FINAL = {"succeeded", "failed", "cancelled", "checks_failed"}


def test_the_served_schema_is_the_one_linted(served_schema, dumped_schema):
    """test_schema_lint.py checks manage.py spectacular's schema: it must be what is served."""
    served = json.loads(served_schema.read_text())
    dumped = json.loads(dumped_schema[0].read_text())
    sections = {"paths": (served["paths"], dumped["paths"])} | {
        f"components/{kind}": (
            served["components"].get(kind, {}),
            dumped["components"].get(kind, {}),
        )
        for kind in set(served["components"]) | set(dumped["components"])
    }
    differ = [
        f"{section}/{name}"
        for section, (ours, theirs) in sections.items()
        for name in sorted(set(ours) | set(theirs))
        if ours.get(name) != theirs.get(name)
    ]
    if served != dumped:
        pytest.fail(f"the served and dumped schemas differ at {differ or 'the top'}")


def test_the_generator_warns_of_nothing(generated_client):
    """A warning means a part of the schema it could not turn into code (left out)."""
    assert "Warning" not in generated_client.output, generated_client.output


def test_every_generated_operation_imports(generated_client):
    failures = []
    for module in sorted(generated_client.root.glob("api/*/*.py")):
        if module.name == "__init__.py":
            continue
        name = f"{PACKAGE}.api.{module.parent.name}.{module.stem}"
        try:
            importlib.import_module(name)
        except Exception as error:  # whatever the generated code raises, reported together
            failures.append(f"{name}: {error!r}")
    assert not failures, "generated modules that do not import:\n" + "\n".join(failures)


def token_of(generated: GeneratedClient, stack: Stack, username: str) -> str:
    """A token through the generated ``auth_token_create``, called without a login
    (the schema says it needs none, so the function takes a plain Client)."""
    login = generated.operation("auth_token_create")
    body = generated.models.AuthTokenRequest(username=username, password=demo_password(username))
    answer = login.sync_detailed(client=generated.client(stack.url), body=body)
    assert answer.status_code == 200, answer.content
    return answer.parsed.token


def clerk_store(generated: GeneratedClient, clerk: Any) -> int:
    """The clerk's store, as GET /api/v1/me/ says (setup_demo's clerk works at store 1)."""
    me = generated.operation("me_retrieve").sync(client=clerk)
    assert (me.username, str(me.role)) == ("clerk", "Clerk"), me
    assert me.staff is not None and me.store is not None, me
    return me.store.id


def test_clerk_rents_returns_late_and_pays_once(stack, generated_client):
    api, models = generated_client.operation, generated_client.models
    clerk = generated_client.client(stack.url, token_of(generated_client, stack, "clerk"))
    store = clerk_store(generated_client, clerk)

    # A customer of the store owing nothing, with nothing out.
    customers = api("customers_list").sync(client=clerk, active=True, store=store, page_size=50)
    details = (
        api("customers_retrieve").sync(client=clerk, customer_id=listed.id)
        for listed in customers.results
    )
    customer = next((c for c in details if c.open_rentals == 0 and Decimal(c.balance) == 0), None)
    assert customer is not None, f"no customer of store {store} owes nothing and has nothing out"

    # A film with a copy on the shelf, rented as of rental_duration + 3 days ago so that
    # it comes back 3 days late. A copy out at some point since then is refused (400):
    # the next film is tried.
    now = datetime.datetime.now().replace(microsecond=0)
    films = api("films_list").sync(client=clerk, available_at_store=store, page_size=50).results
    assert films, f"no film with a free copy at store {store}"
    refusals = []
    for film in films:
        answer = api("rentals_create").sync_detailed(
            client=clerk,
            body=models.RentalCreateRequest(
                customer=customer.id,
                film=film.id,
                rental_date=now - datetime.timedelta(days=film.rental_duration + DAYS_LATE),
            ),
        )
        if answer.status_code == 201:
            rental = answer.parsed
            break
        assert answer.status_code == 400, answer.content
        refusals.append(answer.parsed.detail)
    else:
        pytest.fail(f"every film was refused: {refusals}")
    assert (rental.status, rental.customer, rental.film) == ("open", customer.id, film.id)
    assert Decimal(rental.amount_charged) == Decimal(film.rental_rate)

    opened = api("rentals_list").sync(
        client=clerk, customer=customer.id, status=models.RentalsListStatus.OPEN
    )
    assert [open_rental.id for open_rental in opened.results] == [rental.id]

    returned = api("rentals_return_create").sync_detailed(
        client=clerk, rental_id=rental.id, body=models.RentalReturnRequest()
    )
    assert returned.status_code == 200, returned.content
    late_fee = Decimal(returned.parsed.late_fee)
    assert returned.parsed.rental.status == "returned"
    assert returned.parsed.days_late == DAYS_LATE
    assert late_fee == min(Decimal(DAYS_LATE), Decimal(film.replacement_cost))
    balance = api("customers_retrieve").sync(client=clerk, customer_id=customer.id).balance
    assert Decimal(balance) == late_fee

    # The balance paid twice with one Idempotency-Key: one payment, the second answer
    # a replay of the first.
    payments_create = api("payments_create")
    paying_from = datetime.datetime.now().replace(microsecond=0)
    payment = models.PaymentCreateRequest(customer=customer.id, amount=balance)
    key = str(uuid.uuid4())
    first = payments_create.sync_detailed(client=clerk, body=payment, idempotency_key=key)
    again = payments_create.sync_detailed(client=clerk, body=payment, idempotency_key=key)
    assert first.status_code == 201, first.content
    assert again.status_code == 201, again.content
    assert again.parsed.id == first.parsed.id
    assert again.headers.get("Idempotent-Replayed") == "true"
    paid = api("payments_list").sync(
        client=clerk, customer=customer.id, payment_date_from=paying_from
    )
    assert [written.id for written in paid.results] == [first.parsed.id]
    customer = api("customers_retrieve").sync(client=clerk, customer_id=customer.id)
    assert Decimal(customer.balance) == 0


def run_finished(generated: GeneratedClient, manager: Any, run_id: int) -> Any:
    """The run's detail once its status is final."""
    retrieve = generated.operation("lake_runs_retrieve")
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    while True:
        run = retrieve.sync(client=manager, id=run_id)
        if str(run.status) in RUN_FINAL:
            return run
        assert time.monotonic() < deadline, f"run {run_id} still {run.status}"
        time.sleep(0.5)


def test_manager_runs_the_lake_and_reads_a_report(stack, generated_client):
    api, models = generated_client.operation, generated_client.models
    token = token_of(generated_client, stack, "manager")
    manager = generated_client.client(stack.url, token)

    runs = api("lake_runs_list").sync(client=manager)
    assert runs.results, "setup_demo's first run is missing"
    started = api("lake_runs_create").sync_detailed(
        client=manager, body=models.PipelineRunCreateRequest()
    )
    if started.status_code == 201:
        run_id = started.parsed.id
    else:  # another run is active (the desk's rentals ask for runs): follow that one
        assert started.status_code == 409, started.content
        run_id = started.parsed.active_run.id
    run = run_finished(generated_client, manager, run_id)
    assert str(run.status) == "succeeded", (
        run.error,
        [(step.name, str(step.status), step.error) for step in run.steps],
    )

    reports = api("reports_list").sync(client=manager)
    assert reports, "no reports"
    answer = api("reports_retrieve").sync_detailed(name=reports[0].name, client=manager)
    assert answer.status_code == 200, answer.content
    result = answer.parsed
    assert result.report == reports[0].name
    assert result.columns and result.run_id >= run_id

    # The same report as CSV, the file its page exports.
    answer = api("reports_csv_retrieve").sync_detailed(name=reports[0].name, client=manager)
    assert answer.status_code == 200, answer.content
    assert answer.headers["content-type"].startswith("text/csv")
    assert isinstance(answer.parsed, str)
    rows = list(csv.reader(io.StringIO(answer.parsed)))
    assert rows[0] == result.columns and len(rows) == len(result.rows) + 1
