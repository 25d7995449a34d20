"""The documentation stays true: the layout names what exists, links resolve,
the README stays a landing page, and the design lives in the repository.

docs/layout.md's table is read as its own text says: every name in code font
is a path, in the first column from the top of the repository, in the second
relative to the row's first path when that is a directory (else to the top);
``<name>`` and ``*`` stand for any name.
"""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
LAYOUT = DOCS / "layout.md"
README_MAX_LINES = 200
# The packages whose every subpackage has a row, or a name, in the layout.
APPS = ("sakila_site", "rentals", "lake", "reports")
NOT_LAID_OUT = {"migrations", "management", "templatetags", "__pycache__"}
# Spelled in two pieces so that this file does not mention it either.
OUTSIDE_DESIGN = "shared/" + "DESIGN.md"

CODE = re.compile(r"`([^`]+)`")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
PLACEHOLDER = re.compile(r"<[^>]+>")


def layout_rows() -> list[tuple[list[str], list[str]]]:
    """(paths, names) of each row of the layout table, header and rule left out."""
    rows = []
    for line in LAYOUT.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) != 2 or cells[0] in ("path", "---"):
            continue
        rows.append((CODE.findall(cells[0]), CODE.findall(cells[1])))
    return rows


def laid_out_paths() -> list[str]:
    """Every path the layout table names, from the top of the repository."""
    paths = []
    for row_paths, names in layout_rows():
        assert row_paths, f"a layout row names no path: {names}"
        base = row_paths[0] if row_paths[0].endswith("/") else ""
        paths += row_paths + [base + name for name in names]
    return paths


def matches(path: str) -> list[Path]:
    pattern = PLACEHOLDER.sub("*", path).rstrip("/")
    if "*" in pattern:
        return sorted(ROOT.glob(pattern))
    return [ROOT / pattern] if (ROOT / pattern).exists() else []


def test_every_path_in_the_layout_exists():
    paths = laid_out_paths()
    assert len(paths) > 50
    missing = [path for path in paths if not matches(path)]
    assert missing == [], f"docs/layout.md names paths that do not exist: {missing}"


def test_every_package_is_in_the_layout():
    named = {str(found.relative_to(ROOT)) for path in laid_out_paths() for found in matches(path)}
    top_level = {init.parent for init in ROOT.glob("*/__init__.py")}
    nested = {
        init.parent
        for app in APPS
        for init in (ROOT / app).rglob("__init__.py")
        if not NOT_LAID_OUT & set(init.relative_to(ROOT).parts)
    }
    assert {ROOT / app for app in APPS} <= top_level
    packages = sorted(str(package.relative_to(ROOT)) for package in top_level | nested)
    missing = [package for package in packages if package not in named]
    assert missing == [], f"packages without a place in docs/layout.md: {missing}"


def markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def anchor(heading: str) -> str:
    """GitHub's id of a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = heading.replace("`", "").strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.DOTALL)
    return {anchor(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


def test_every_link_between_the_pages_resolves():
    broken = []
    links = 0
    for page in markdown_files():
        for target in LINK.findall(page.read_text()):
            if re.match(r"[a-z]+:", target):  # https:, mailto:
                continue
            links += 1
            file, _, fragment = target.partition("#")
            resolved = (page.parent / file).resolve() if file else page
            if not resolved.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
            elif fragment and resolved.suffix == ".md" and fragment not in anchors(resolved):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert links > 50
    assert broken == []


def test_the_readme_links_every_page_of_the_docs():
    readme = (ROOT / "README.md").read_text()
    index = (DOCS / "README.md").read_text()
    for page in sorted(DOCS.glob("*.md")):
        if page.name != "README.md":
            assert f"(docs/{page.name})" in readme, page.name
            assert f"({page.name})" in index, page.name


def test_the_readme_is_a_landing_page():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= README_MAX_LINES


def test_nothing_points_at_a_design_outside_the_repository():
    tracked = (
        subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    mentions = []
    for name in filter(None, tracked):
        path = ROOT / name
        if not path.is_file():
            continue
        data = path.read_bytes()
        if b"\0" in data:  # binary
            continue
        if OUTSIDE_DESIGN in data.decode("utf-8", errors="replace"):
            mentions.append(name)
    assert mentions == []
