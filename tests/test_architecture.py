"""The code's shape, as docs/layout.md describes it: imports that run one way,
a lake core without Django, engine and catalog choices behind their
interfaces, and modules small enough to hold one idea."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPS = ("sakila_site", "rentals", "lake", "reports")
# The apps' order of dependency: each may import those after it, never those before.
LAYERS = ("reports", "lake", "rentals")
MAX_LINES = 500
# One idea, however long: the mapping of the 16 Sakila tables (and the staff's logins).
LONG_BY_NATURE = {"rentals/models.py": 520}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
    }


def imported(tree: ast.AST, known: dict[str, Path]) -> set[str]:
    """The project modules a module imports, at its top or in a function
    (imports only a type checker reads are left out)."""

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    type_only = {
        id(node)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and ast.unparse(block.test) == "TYPE_CHECKING"
        for statement in block.body
        for node in ast.walk(statement)
    }
    found = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found |= {resolve(alias.name) for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in known else resolve(node.module))
    return found - {None}


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {
        name: imported(ast.parse(path.read_text()), known) - {name} for name, path in known.items()
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while (member := stack.pop()) != node:
                group.append(member)
            if group:
                found.append(sorted([node, *group]))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_one_that_imports_it_back():
    assert cycles(import_graph()) == []


def test_the_cycle_check_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_apps_import_only_the_apps_below_them():
    upward = sorted(
        f"{source} imports {target}"
        for source, targets in import_graph().items()
        for target in targets
        if (app := source.partition(".")[0]) in LAYERS
        and (other := target.partition(".")[0]) in LAYERS
        and LAYERS.index(other) < LAYERS.index(app)
    )
    assert upward == []


def test_the_lake_core_is_plain_python():
    """lake/core imports no Django and nothing of the project outside itself."""
    outside = {}
    for path in (ROOT / "lake" / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                top = name.partition(".")[0]
                if top == "django" or (top in APPS and not name.startswith("lake.core")):
                    outside.setdefault(path.relative_to(ROOT).as_posix(), []).append(name)
    assert outside == {}


def test_engine_and_catalog_choices_are_made_in_their_packages():
    """Only lake/engines/ and lake/catalog/ may ask which engine or catalog is
    configured (settings reads and checks them once, at start)."""
    asks = re.compile(r"settings\.(LAKE_ENGINE|LAKE_CATALOG|QUERY_ENGINE)\s*(==|!=|in\b|not in\b)")
    allowed = ("lake/engines/", "lake/catalog/", "sakila_site/settings.py")
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for app in APPS
        for path in (ROOT / app).rglob("*.py")
        if not path.relative_to(ROOT).as_posix().startswith(allowed)
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if asks.search(line) or re.search(r"\brun\.engine\s*(==|!=)", line)
    ]
    assert found == []


def test_no_module_is_over_500_lines():
    long = {
        path.relative_to(ROOT).as_posix(): lines
        for app in (*APPS, "bench")
        for path in (ROOT / app).rglob("*.py")
        if "migrations" not in path.parts
        and (lines := len(path.read_text().splitlines()))
        > LONG_BY_NATURE.get(path.relative_to(ROOT).as_posix(), MAX_LINES)
    }
    assert long == {}
