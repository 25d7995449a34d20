"""Data checks: what a run's tables must satisfy before the run is published.

Each mart declares its checks beside its SQL, in ``sql/marts/<mart>.checks.toml``
(one ``[[checks]]`` table each, read by every engine), of these kinds:

- ``grain``: ``columns`` are unique together and never null;
- ``relationship``: every non-null ``column`` is found in ``to``
  ("dim_customer.customer_id");
- ``range``: ``column`` lies within ``min`` and/or ``max``;
- ``accepted``: ``column`` is one of ``values`` (or null);
- ``reconcile``: ``actual`` and ``expected``, two queries each returning the
  ``by`` columns and a ``value``, agree row for row: the marts against the
  source as the run read it (``staging_<table>``); ``scoped = true`` lets an
  incremental run compare them over the keys it wrote only (see
  ``lake/pipeline/audit.py``'s ``RunScope``);
- ``volume``: the table has lost no more than ``max_drop`` (a share) of the
  rows it had when last published, beyond the rows the run deleted from
  ``explained_by`` (a source table).

``severity`` is "error" (the default: the run is not published) or "warn"
(published, flagged). A check compiles to one DuckDB query returning the
rows that break it (none: it passes), transpiled for Spark like the marts'
SQL, so every engine runs the same checks; ``run_checks`` runs them through
whatever executes SQL, against the tables as the run wrote them (the marts
by their names, staging as ``staging_<table>``).
"""

import json
import time
import tomllib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent / "sql"
KINDS = ("grain", "relationship", "range", "accepted", "reconcile", "volume")
SEVERITIES = ("error", "warn")
FAILING_ROWS_SHOWN = 20
# Tests only (LAKE_FAULT_INJECTION): every engine writes one fact_sales row twice
# after the marts, before the checks.
DUPLICATE_FAULT = "marts:duplicate"


class CheckError(ValueError):
    """A checks file that cannot be read: the message names the file and the check."""


@dataclass(frozen=True)
class Check:
    table: str  # the mart checked ("fact_sales")
    name: str  # what it asserts, in words
    kind: str
    severity: str
    sql: str  # DuckDB: the rows that break it ("" for volume, computed from counts)
    max_drop: float | None = None  # volume only
    explained_by: str | None = None  # volume only: the source whose deletes explain a drop
    column: str | None = None  # relationship only: the column that points
    to: str | None = None  # relationship only: what it points at ("dim_store.store_id")
    scoped: bool = False  # reconcile only: an incremental run may compare the keys it wrote


@dataclass
class CheckResult:
    check: Check
    status: str  # "passed", "failed" (error severity), "warned" (warn), "error" (did not run)
    failing: int = 0  # rows that break it
    rows: list[dict] = field(default_factory=list)  # the first FAILING_ROWS_SHOWN of them
    message: str = ""
    seconds: float = 0.0

    @property
    def blocks_publish(self) -> bool:
        return self.status in ("failed", "error")


def checks_files() -> list[Path]:
    return sorted((SQL_DIR / "marts").glob("*.checks.toml"))


def load_checks(paths: list[Path] | None = None) -> list[Check]:
    """Every mart's checks, in file order; a malformed file is a CheckError."""
    checks = []
    for path in paths if paths is not None else checks_files():
        table = path.name.removesuffix(".checks.toml")
        try:
            declared = tomllib.loads(path.read_text()).get("checks", [])
        except tomllib.TOMLDecodeError as error:
            raise CheckError(f"{path.name}: {error}") from None
        for number, spec in enumerate(declared, 1):
            try:
                checks.append(compile_check(table, spec))
            except (KeyError, TypeError, ValueError) as error:
                raise CheckError(f"{path.name}, check {number}: {error}") from None
    return checks


def compile_check(table: str, spec: dict) -> Check:
    """A declared check as a query for the rows that break it."""
    kind = spec["kind"]
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    severity = spec.get("severity", "error")
    if severity not in SEVERITIES:
        raise ValueError(f"severity {severity!r} is not one of {', '.join(SEVERITIES)}")
    name, sql = {
        "grain": _grain,
        "relationship": _relationship,
        "range": _range,
        "accepted": _accepted,
        "reconcile": _reconcile,
        "volume": _volume,
    }[kind](table, spec)
    return Check(
        table=table,
        name=spec.get("name", name),
        kind=kind,
        severity=severity,
        sql=sql,
        max_drop=float(spec["max_drop"]) if kind == "volume" else None,
        explained_by=spec.get("explained_by"),
        column=spec["column"] if kind == "relationship" else None,
        to=spec["to"] if kind == "relationship" else None,
        scoped=bool(spec.get("scoped", False)) if kind == "reconcile" else False,
    )


def _grain(table: str, spec: dict) -> tuple[str, str]:
    columns = list(spec["columns"])
    listed = ", ".join(columns)
    nulls = " or ".join(f"{column} is null" for column in columns)
    return (
        f"one row per {listed}, never null",
        f"select {listed}, count(*) as row_count\nfrom {table}\ngroup by {listed}\n"
        f"having count(*) > 1 or {nulls}",
    )


def _relationship(table: str, spec: dict) -> tuple[str, str]:
    target = spec["to"].partition(".")[0]
    return f"every {spec['column']} is in {target}", relationship_sql(
        table, spec["column"], spec["to"]
    )


def relationship_sql(table: str, column: str, to: str) -> str:
    """The rows of ``table`` (a table or view) whose ``column`` is not in ``to``."""
    target, _, target_column = to.partition(".")
    if not target_column:
        raise ValueError(f"to = {to!r} is not <table>.<column>")
    return (
        f"select t.{column}, count(*) as row_count\nfrom {table} as t\n"
        f"where t.{column} is not null\n  and not exists (\n"
        f"    select 1 from {target} as r where r.{target_column} = t.{column}\n  )\n"
        f"group by t.{column}"
    )


def _range(table: str, spec: dict) -> tuple[str, str]:
    column = spec["column"]
    bounds = []
    if "min" in spec:
        bounds.append(f"{column} < {_literal(spec['min'])}")
    if "max" in spec:
        bounds.append(f"{column} > {_literal(spec['max'])}")
    if not bounds:
        raise ValueError("a range needs min, max or both")
    words = " and ".join(
        part
        for part in (
            f">= {spec['min']}" if "min" in spec else "",
            f"<= {spec['max']}" if "max" in spec else "",
        )
        if part
    )
    return (
        f"{column} {words}",
        f"select *\nfrom {table}\nwhere {' or '.join(bounds)}",
    )


def _accepted(table: str, spec: dict) -> tuple[str, str]:
    column = spec["column"]
    values = [str(value) for value in spec["values"]]
    listed = ", ".join(_literal(value) for value in values)
    return (
        f"{column} is one of {', '.join(values)}",
        f"select {column}, count(*) as row_count\nfrom {table}\n"
        f"where {column} is not null and {column} not in ({listed})\ngroup by {column}",
    )


def _reconcile(table: str, spec: dict) -> tuple[str, str]:
    by = list(spec.get("by", []))
    actual, expected = spec["actual"].strip(), spec["expected"].strip()
    keys = [f"coalesce(a.{key}, e.{key}) as {key}" for key in by]
    join = " and ".join(f"a.{key} = e.{key}" for key in by) or "true"
    columns = ", ".join([*keys, "a.value as actual", "e.value as expected"])
    return (
        spec["name"],
        f"with actual as (\n{actual}\n),\n\nexpected as (\n{expected}\n)\n\n"
        f"select {columns}\nfrom actual as a\nfull join expected as e on {join}\n"
        f"where a.value is distinct from e.value",
    )


def _volume(table: str, spec: dict) -> tuple[str, str]:
    share = float(spec["max_drop"])
    if not 0 < share < 1:
        raise ValueError(f"max_drop {share} is not a share between 0 and 1")
    return f"loses at most {share:.0%} of its rows between runs", ""


def _literal(value: object) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


# --- Running them ------------------------------------------------------------------------


@dataclass(frozen=True)
class Volume:
    """What a volume check compares: the table's rows now and when last
    published, and how many rows the run deleted from each source table."""

    rows: dict[str, int]  # mart -> rows now
    published_rows: dict[str, int | None]  # mart -> rows last published (None: never)
    deleted: dict[str, int]  # source table -> rows the run deleted


def run_checks(
    checks: list[Check], execute: Callable[[str], list[dict]], volume: Volume
) -> list[CheckResult]:
    """Run every check with ``execute`` (SQL in, rows as dicts out); a check
    whose SQL fails is an error (which blocks the publish, as a failure does)."""
    return [run_check(check, execute, volume) for check in checks]


def run_check(check: Check, execute: Callable[[str], list[dict]], volume: Volume) -> CheckResult:
    started = time.monotonic()
    try:
        result = _volume_result(check, volume) if check.kind == "volume" else None
        if result is None:
            counted = execute(f"select count(*) as failing from (\n{check.sql}\n) as failures")
            failing = int(next(iter(counted[0].values())))
            rows = execute(f"{check.sql}\nlimit {FAILING_ROWS_SHOWN}") if failing else []
            result = CheckResult(check, _status(check, failing), failing, rows)
    except Exception as error:  # the check itself is broken, or a table is missing
        result = CheckResult(check, "error", message=f"{type(error).__name__}: {error}")
    result.seconds = time.monotonic() - started
    return result


def _volume_result(check: Check, volume: Volume) -> CheckResult:
    now = volume.rows.get(check.table, 0)
    before = volume.published_rows.get(check.table)
    if not before:
        return CheckResult(check, "passed", message="nothing published yet to compare with")
    explained = volume.deleted.get(check.explained_by or "", 0)
    unexplained = max(before - now - explained, 0)
    row = {"published_rows": before, "rows": now, "deleted_at_source": explained}
    if unexplained > check.max_drop * before:
        message = (
            f"{before - now:,} of {before:,} rows gone ({(before - now) / before:.0%}), "
            f"{explained:,} of them deleted at the source"
        )
        return CheckResult(check, _status(check, unexplained), unexplained, [row], message)
    return CheckResult(check, "passed", rows=[], message=f"{now:,} rows, {before:,} published")


# --- Across engines: checks and results as JSON ------------------------------------------
#
# The Spark jobs have no sqlglot or TOML files: ``lake deploy`` gives them the
# checks compiled and rendered for Spark (``checks_to_json``), and the marts job
# hands its results back to the app in a run property (``results_to_json``).


def checks_to_json(checks: list[Check], render: Callable[[str], str] | None = None) -> str:
    """The checks as JSON, their SQL rendered by ``render`` (for another dialect)."""
    listed = [asdict(check) for check in checks]
    if render is not None:
        for check in listed:
            check["sql"] = render(check["sql"]) if check["sql"] else ""
    return json.dumps(listed, indent=1)


def checks_from_json(text: str) -> list[Check]:
    return [Check(**check) for check in json.loads(text)]


def results_to_json(results: list[CheckResult]) -> str:
    """Results with their check; values JSON lacks (decimals, times) as text."""
    return json.dumps(
        [{**asdict(result), "check": asdict(result.check)} for result in results],
        default=str,
    )


def results_from_json(text: str) -> list[CheckResult]:
    results = []
    for result in json.loads(text):
        result["check"] = Check(**result["check"])
        results.append(CheckResult(**result))
    return results


def _status(check: Check, failing: int) -> str:
    if not failing:
        return "passed"
    return "failed" if check.severity == "error" else "warned"
