"""The API's OpenAPI schema: drf-spectacular writes it without warnings, Redocly's
recommended rules find no error in it (less those redocly.yaml turns off, with
why), openapi-spec-validator accepts it, and TypeScript client code compiles
against the types openapi-typescript generates from it (client_check.ts)."""

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest

from tests.api_clients.conftest import HERE, node_tool, output_of, run

pytestmark = pytest.mark.clients


def test_drf_spectacular_writes_the_schema_without_warnings(dumped_schema):
    _, output = dumped_schema
    assert "Schema generation summary" not in output, output


def lint_report(result: dict) -> str:
    """Redocly's problems, counted by rule then listed, errors first."""
    problems = sorted(result["problems"], key=lambda p: (p["severity"] != "error", p["ruleId"]))
    counts = Counter((p["severity"], p["ruleId"]) for p in problems)
    lines = [
        f"Redocly: {result['totals']['errors']} errors, {result['totals']['warnings']} warnings"
    ]
    lines += [f"  {severity} {rule}: {count}" for (severity, rule), count in counts.items()]
    lines += [
        f"{p['severity']} {p['ruleId']} at {p['location'][0]['pointer']}: {p['message']}"
        for p in problems
    ]
    return "\n".join(lines)


def test_redocly_finds_no_errors(dumped_schema):
    schema, _ = dumped_schema
    done = run(
        [
            node_tool("redocly"),
            "lint",
            "--config",
            HERE / "redocly.yaml",
            "--format",
            "json",
            schema,
        ]
    )
    try:
        result = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"Redocly gave no report:\n{output_of(done)}")
    assert result["totals"]["errors"] == 0, lint_report(result)
    print(lint_report(result))  # the warnings, in -rA or on another test's failure


def test_openapi_spec_validator_accepts_the_schema(dumped_schema):
    validator = pytest.importorskip("openapi_spec_validator")
    schema, _ = dumped_schema
    validator.validate(json.loads(schema.read_text()))


def test_typescript_client_code_compiles_against_the_generated_types(dumped_schema, tmp_path):
    schema, _ = dumped_schema
    # openapi-typescript with its default options, as a TypeScript project would run it.
    # In tmp_path: it would lint with a redocly.yaml in its working directory, and stop
    # on any error; test_redocly_finds_no_errors reports those.
    done = run(
        [node_tool("openapi-typescript"), schema, "--output", tmp_path / "schema.d.ts"],
        cwd=tmp_path,
    )
    assert done.returncode == 0, output_of(done)
    check = Path(shutil.copy(HERE / "client_check.ts", tmp_path))
    done = run(
        [node_tool("tsc"), "--strict", "--noEmit", "--target", "es2022", "--module", "esnext",
         "--moduleResolution", "bundler", check.name],
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, (
        f"client_check.ts does not compile against the types generated in "
        f"{tmp_path / 'schema.d.ts'}:\n{done.stdout}{done.stderr}"
    )
