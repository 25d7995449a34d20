"""Guards for our overrides of a library's private code.

Only the version pins protect such an override: a library changes its
private methods without notice. So a module that overrides or calls them
records the version it was written for, as locked in requirements*.txt::

    OVERRIDES_WRITTEN_FOR = {"kombu": "5.7.0"}

and one test, in the test file that mirrors the module, names what the
override relies on, on which library class, with the parameters it expects
(None: not checked, e.g. for a property)::

    def test_the_broker_overrides_match_the_installed_kombu():
        assert_override_current(broker, "kombu", {Channel: {"_get": ("self", "queue")}})

The test fails, saying what to check, when the installed version is not the
recorded one, or when a name is gone or takes other parameters. After an
upgrade: read the library's new code against what the module's docstring
says the override assumes, fix what changed, then update the record.
"""

import importlib.metadata
import inspect
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent

# {library class: {private name: its parameters, or None to check only that it exists}}
Names = Mapping[type, Mapping[str, Sequence[str] | None]]


def parameters(function) -> tuple[str, ...]:
    """A function's parameter names as written: ("self", "*args", "**kwargs")."""
    stars = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**"}
    return tuple(
        stars.get(parameter.kind, "") + name
        for name, parameter in inspect.signature(function).parameters.items()
    )


def override_problems(module: ModuleType, package: str, names: Names) -> list[str]:
    """What no longer matches: the version, a name gone, parameters changed."""
    problems = []
    recorded = getattr(module, "OVERRIDES_WRITTEN_FOR", {}).get(package)
    try:
        installed = importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        installed = "not installed"
    if recorded is None:
        problems.append(f"no version of {package} in its OVERRIDES_WRITTEN_FOR")
    elif recorded != installed:
        problems.append(f"written for {package} {recorded}, installed {installed}")
    for owner, members in names.items():
        for name, expected in members.items():
            attribute = getattr(owner, name, None)
            if attribute is None:
                problems.append(f"{package} {installed} has no {owner.__name__}.{name}")
            elif expected is not None and parameters(attribute) != tuple(expected):
                problems.append(
                    f"{owner.__name__}.{name} takes ({', '.join(parameters(attribute))}), "
                    f"the override expects ({', '.join(expected)})"
                )
    return problems


def assert_override_current(module: ModuleType, package: str, names: Names) -> None:
    """Fail, naming the module and what to check, unless ``module``'s overrides
    of ``package``'s private ``names`` still match the installed version."""
    problems = override_problems(module, package, names)
    if not problems:
        return
    path = Path(module.__file__).resolve()
    where = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else module.__name__
    listed = ", ".join(
        f"{owner.__name__}.{name}" for owner, members in names.items() for name in members
    )
    pytest.fail(
        f"{where} overrides or calls {package}'s private {listed}: {'; '.join(problems)}. "
        "Check that these still behave as the override assumes (see the module's docstring), "
        "then update OVERRIDES_WRITTEN_FOR (and the parameters this test expects).",
        pytrace=False,
    )
