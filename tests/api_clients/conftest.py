"""Clients generated from the API's OpenAPI schema, and proof that they work
(``make test-clients``; marker ``clients``).

The Node tools (Redocly CLI, openapi-typescript, TypeScript) are the exact
versions of package-lock.json here, which ``npm ci --prefix tests/api_clients``
installs before pytest runs: the tests run them from node_modules/.bin, never
through npx, so nothing is downloaded at test time. Without them the tests fail
and say what to run; they do not skip, or CI would pass without checking anything.

The Python client is openapi-python-client's (requirements-dev), generated from
the schema that ``make run``'s stack serves and driven against that stack.
"""

import importlib
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.stack import PROJECT, Stack, stack_serving

HERE = Path(__file__).resolve().parent
NODE_BIN = HERE / "node_modules" / ".bin"
INSTALL_HINT = "run `make test-clients`, or `npm ci --prefix tests/api_clients` first"
# Before the generated client exists: the token and the schema, at addresses that stay
# (/api/ answers as /api/v1/ does; the schema is not versioned).
TOKEN_PATH = "api/auth/token/"
SCHEMA_PATH = "api/schema/?format=json"
# Migrating, loading the demo data and its first lake run, then starting (~30 s quiet).
STARTUP_TIMEOUT_SECONDS = 600
PACKAGE = "sakila_lake_client"  # the generated Python client's package
STACK_KEY = pytest.StashKey[Stack]()


# --- Node tools --------------------------------------------------------------------------


def node_tool(name: str) -> Path:
    """An executable of node_modules/.bin, or a failure saying how to install it."""
    if shutil.which("node") is None:
        pytest.fail(
            f"node is not on PATH: these tests need Node 20.19+; then {INSTALL_HINT}", pytrace=False
        )
    path = NODE_BIN / name
    if not path.exists():
        pytest.fail(f"{path.relative_to(PROJECT)} is missing: {INSTALL_HINT}", pytrace=False)
    return path


def node_env() -> dict[str, str]:
    """No telemetry, no update checks (Redocly reads the registry otherwise), plain text."""
    return os.environ | {
        "REDOCLY_TELEMETRY": "off",
        "REDOCLY_SUPPRESS_NOTIFICATIONS": "true",
        "NO_COLOR": "1",
        "FORCE_COLOR": "0",
    }


def run(
    args: list[str | Path], *, cwd: Path = HERE, env: dict | None = None, timeout: int = 300
) -> subprocess.CompletedProcess:
    """A command's result; its output, as text, for the assertion messages."""
    return subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd, env=env or node_env(), capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def output_of(done: subprocess.CompletedProcess) -> str:
    return f"$ {' '.join(done.args)}\n(exit {done.returncode})\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="session")
def dumped_schema(tmp_path_factory) -> tuple[Path, str]:
    """The schema as ``manage.py spectacular`` writes it with the test settings (JSON),
    and what the command printed (drf-spectacular's warnings go there)."""
    path = tmp_path_factory.mktemp("schema") / "schema.json"
    done = run(
        [sys.executable, "manage.py", "spectacular", "--format", "openapi-json", "--file", path],
        cwd=PROJECT, env=dict(os.environ), timeout=120,
    )  # fmt: skip
    assert done.returncode == 0 and path.exists(), output_of(done)
    return path, done.stdout + done.stderr


# --- The stack and the generated Python client -------------------------------------------


@pytest.fixture(scope="session")
def stack(tmp_path_factory, request) -> Iterator[Stack]:
    """``make run``'s stack with its demo data (users clerk and manager), on a free port."""
    with stack_serving(tmp_path_factory.mktemp("stack-var"), STARTUP_TIMEOUT_SECONDS) as stack:
        request.config.stash[STACK_KEY] = stack
        yield stack


def demo_password(username: str) -> str:
    """The password setup_demo gives a demo user (the stack runs setup_demo)."""
    from sakila_site.management.commands.setup_demo import DEMO_ROLE_USERS

    return {name: password for _, name, password, _ in DEMO_ROLE_USERS}[username]


def bootstrap_token(stack: Stack, username: str) -> str:
    """A token with plain urllib, for what comes before the generated client exists
    (fetching the schema it is generated from)."""
    body = json.dumps({"username": username, "password": demo_password(username)}).encode()
    request = urllib.request.Request(
        f"{stack.url}{TOKEN_PATH}", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)["token"]


@pytest.fixture(scope="session")
def served_schema(stack, tmp_path_factory) -> Path:
    """``GET /api/schema/`` of the running stack, as JSON (the schema needs a login)."""
    request = urllib.request.Request(
        f"{stack.url}{SCHEMA_PATH}",
        headers={"Authorization": f"Token {bootstrap_token(stack, 'manager')}"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        schema = json.load(response)
    path = tmp_path_factory.mktemp("served-schema") / "schema.json"
    path.write_text(json.dumps(schema, indent=2))
    return path


@dataclass
class GeneratedClient:
    """openapi-python-client's package, imported from where it was generated."""

    root: Path  # the package's directory
    schema: dict
    output: str  # what the generator printed: its warnings

    def operation(self, operation_id: str) -> ModuleType:
        """The module of an operation (``api/<tag>/<operationId>.py``), by operationId."""
        found = sorted(self.root.glob(f"api/*/{operation_id}.py"))
        assert found, f"the generated client has no module for operation {operation_id!r}"
        return importlib.import_module(f"{PACKAGE}.api.{found[0].parent.name}.{operation_id}")

    @property
    def models(self) -> ModuleType:
        return importlib.import_module(f"{PACKAGE}.models")

    def client(self, base_url: str, token: str | None = None) -> Any:
        """The generated AuthenticatedClient with a DRF token (``Token <key>``), or the
        anonymous Client; errors raise for undocumented statuses."""
        package = importlib.import_module(PACKAGE)
        if token is None:
            return package.Client(base_url=base_url, raise_on_unexpected_status=True)
        return package.AuthenticatedClient(
            base_url=base_url, token=token, prefix="Token", raise_on_unexpected_status=True
        )


@pytest.fixture(scope="session")
def generated_client(served_schema, tmp_path_factory) -> Iterator[GeneratedClient]:
    """A Python client generated from the served schema, importable as ``sakila_lake_client``."""
    out = tmp_path_factory.mktemp("python-client")
    done = run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", served_schema,
         "--output-path", out / PACKAGE, "--meta", "none",
         "--config", HERE / "openapi-python-client.yaml"],
        cwd=out, env=dict(os.environ), timeout=120,
    )  # fmt: skip
    if done.returncode != 0 and "No module named openapi_python_client" in done.stderr:
        pytest.fail("openapi-python-client is not installed: make install (requirements-dev)")
    assert done.returncode == 0 and (out / PACKAGE).is_dir(), output_of(done)
    sys.path.insert(0, str(out))
    try:
        schema = json.loads(served_schema.read_text())
        yield GeneratedClient(out / PACKAGE, schema, done.stdout + done.stderr)
    finally:
        sys.path.remove(str(out))
        for name in [name for name in sys.modules if name.partition(".")[0] == PACKAGE]:
            del sys.modules[name]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A failing step shows the stack's log."""
    report = yield
    if report.failed and report.when == "call" and "stack" in getattr(item, "fixturenames", ()):
        stack = item.config.stash.get(STACK_KEY, None)
        if stack is not None:
            report.sections.append(("stack log (last lines)", stack.log_tail()))
    return report
