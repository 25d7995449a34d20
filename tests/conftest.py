import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from pytest_django.plugin import validate_django_db

from tests.built_states import BuiltStates

# The real Sakila CSVs: SAKILA_DATA_DIR, else shared/sakila beside the checkout.
REAL_SAKILA_DIR = Path(
    os.environ.get("SAKILA_DATA_DIR") or Path(__file__).resolve().parents[2] / "shared" / "sakila"
).absolute()
ON_MYSQL = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.mysql"

only_on_mysql = pytest.mark.skipif(not ON_MYSQL, reason="needs DATABASE_URL=mysql://...")


def database_url() -> str:
    """DATABASE_URL of the test database, for a subprocess (a command, a worker)."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 3306}"
    return f"mysql://{db['USER']}{password}@{host}/{db['NAME']}"


@pytest.fixture
def celery_broker(tmp_path) -> Iterator[dict[str, str]]:
    """A broker of this test's own; yields the environment a worker process needs.

    On the embedded default, a SQLite broker file under tmp_path; on Redis (CI's
    MariaDB run), the configured one, purged."""
    from sakila_site.celery import app
    from tests.sakila_site.broker_stress import reset_broker_connections

    saved = app.conf.broker_url
    env = {"SAKILA_VAR_DIR": str(tmp_path)}
    if saved.startswith("sqlite://"):
        app.conf.broker_url = env["CELERY_BROKER_URL"] = f"sqlite:///{tmp_path / 'broker.sqlite3'}"
    reset_broker_connections()
    app.control.purge()
    yield env
    app.conf.broker_url = saved
    reset_broker_connections()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    """Tests make many logins; PBKDF2 would cost a quarter second each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def no_lake_refresh_on_change(settings) -> None:
    """Desk activity queues no lake refresh, except in tests that turn it on."""
    settings.LAKE_REFRESH_ON_CHANGE = False


def real_sakila_data_found() -> bool:
    return (REAL_SAKILA_DIR / "rental.csv").is_file()


@pytest.fixture
def real_sakila_dir() -> Path:
    """The real Sakila CSVs (SAKILA_DATA_DIR, else shared/sakila beside the checkout), or skip."""
    if not real_sakila_data_found():
        pytest.skip(f"the real Sakila data is not at {REAL_SAKILA_DIR} (set SAKILA_DATA_DIR)")
    return REAL_SAKILA_DIR


def pytest_report_header(config) -> str:
    """Where the real Sakila data is, or how many tests skip without it (counted in the
    test files: the header comes before collection, which xdist's workers do)."""
    if real_sakila_data_found():
        return f"real Sakila data: {REAL_SAKILA_DIR}"
    tests = Path(__file__).parent
    uses = sum(
        len(re.findall(r"def test_\w+\([^)]*\breal_sakila_dir\b", path.read_text()))
        for path in tests.rglob("test_*.py")
    )
    return (
        f"real Sakila data: not at {REAL_SAKILA_DIR}: {uses} real-data tests will skip; "
        "set SAKILA_DATA_DIR to the directory of its CSVs (../shared/sakila by default)"
    )


@pytest.fixture
def store(db):
    """A store (with its manager staff row)."""
    from tests.factories import StoreFactory

    return StoreFactory()


def make_role_user(role: str, *, store=None, username: str | None = None):
    """A login in ``role``; with ``store``, linked to a new staff row there."""
    from django.apps import apps
    from django.contrib.auth.models import Group

    from rentals import services
    from sakila_site.roles import role_groups_sync
    from tests.factories import StaffFactory

    if not Group.objects.filter(name=role).exists():  # see the role_groups fixture
        role_groups_sync(apps)
    staff = StaffFactory(store=store) if store is not None else None
    return services.staff_user_create(
        username=username or f"{role.lower()}-{staff.pk if staff else 'nostaff'}",
        password="pw-for-tests-only",
        role=role,
        staff=staff,
    )


@pytest.fixture
def clerk(store):
    from sakila_site.roles import CLERK

    return make_role_user(CLERK, store=store, username="clerk")


@pytest.fixture
def manager(store):
    from sakila_site.roles import MANAGER

    return make_role_user(MANAGER, store=store, username="manager")


@pytest.fixture
def admin_role_user(store):
    """A member of the Admin group (not a superuser)."""
    from sakila_site.roles import ADMIN

    return make_role_user(ADMIN, store=store, username="admin-role")


@pytest.fixture
def role_groups(db) -> None:
    """The role groups, which transactional tests' flushes remove with all rows."""
    from django.apps import apps

    from sakila_site.roles import role_groups_sync

    role_groups_sync(apps)


@pytest.fixture(scope="session")
def built_states(tmp_path_factory, django_db_setup, django_db_blocker) -> Iterator[BuiltStates]:
    """The states tests built so far in this session (see tests/built_states.py)."""
    states = BuiltStates(tmp_path_factory.mktemp("built-states"))
    yield states
    with django_db_blocker.unblock():
        states.drop()


@pytest.fixture(scope="session")
def lake_warehouse(tmp_path_factory) -> Path:
    """This session's (this xdist worker's) warehouse directory: each test's in turn.

    One path for all: a built lake restored from its copy must be where it was
    built, its metadata naming its files by absolute path."""
    return tmp_path_factory.getbasetemp() / "lake"


@pytest.fixture(scope="session")
def moto_server():
    """moto's AWS server on 127.0.0.1 (a free port), for the whole session: its URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_server, settings, monkeypatch):
    """Every AWS client of the app and of boto3 pointed at a fresh moto server.

    Fake credentials in the environment make sure nothing can reach real AWS.
    Yields the server's URL.
    """
    import requests

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": moto_server,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    settings.AWS_REGION = "us-east-1"
    settings.AWS_ENDPOINT_URL = moto_server
    requests.post(f"{moto_server}/moto-api/reset", timeout=10).raise_for_status()
    yield moto_server


def _django_group(item: pytest.Item) -> int:
    """pytest-django's order: 0 in a transaction, 1 transactional, 2 without a database."""
    fixtures = set(getattr(item, "fixturenames", ()))
    marker = item.get_closest_marker("django_db")
    transactional = bool({"transactional_db", "live_server"} & fixtures)
    if marker:
        transaction, reset_sequences, *_ = validate_django_db(marker)
        transactional = transactional or transaction or reset_sequences
    if transactional:
        return 1
    return 0 if marker or "db" in fixtures else 2


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first, so that xdist's workers (make test) finish together.

    pytest-django has ordered the tests as Django does: those in a transaction,
    then the transactional ones (whose flush removes what the migrations made),
    then those without a database; a worker runs its share in this order. The
    slow ones without a database go first of all, the others first of their
    group: what is left at the end is short, for either worker to take."""
    position = {id(item): index for index, item in enumerate(items)}

    def key(item: pytest.Item) -> tuple[int, ...]:
        slow = item.get_closest_marker("slow") is not None
        group = _django_group(item)
        if slow and group == 2:
            return (0, position[id(item)])
        return (1, group, 0 if slow else 1, position[id(item)])

    items.sort(key=key)
