"""The locks (requirements*.txt) against their inputs (requirements*.in), offline.

`make lock-check` (CI) recompiles every lock and fails on any difference;
these checks need no network, so `make test` catches the common slips too:
an input edited and not compiled, a package in a lock without hashes."""

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
SETS = ["requirements", "requirements-dev", "requirements-spark"]


def pins_in(path: Path) -> dict[str, str]:
    """name -> version of each `name==version` requirement (continuations joined)."""
    text = re.sub(r"\\\n", " ", path.read_text())
    pins = {}
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        requirement = Requirement(line.split(" --hash", 1)[0])
        specifiers = list(requirement.specifier)
        assert len(specifiers) == 1 and specifiers[0].operator == "==", f"{path.name}: {line}"
        pins[canonicalize_name(requirement.name)] = specifiers[0].version
    return pins


@pytest.mark.parametrize("name", SETS)
def test_every_direct_requirement_is_pinned_and_locked_at_its_version(name):
    wanted = pins_in(ROOT / f"{name}.in")
    locked = pins_in(ROOT / f"{name}.txt")
    assert {package: locked.get(package) for package in wanted} == wanted, (
        f"{name}.txt does not match {name}.in: run make lock"
    )


@pytest.mark.parametrize("name", SETS)
def test_every_locked_package_has_hashes(name):
    entries = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / f"{name}.txt").read_text())
    packages = [entry for entry in entries if "==" in entry.split("\n", 1)[0]]
    assert packages
    assert [entry.split(" ", 1)[0] for entry in packages if "--hash=sha256:" not in entry] == []


def test_the_dev_lock_holds_the_runtime_lock_at_the_same_versions():
    runtime = pins_in(ROOT / "requirements.txt")
    dev = pins_in(ROOT / "requirements-dev.txt")
    assert {package: dev.get(package) for package in runtime} == runtime
