"""The guard of our overrides of a library's private code (tests/overrides.py)
fails for each thing that can go stale, and says which."""

import importlib.metadata
from types import ModuleType

import pytest

from tests.overrides import ROOT, assert_override_current

INSTALLED = importlib.metadata.version("django")


class Library:
    def _hook(self, queue, *args, **kwargs): ...


def overriding_module(written_for: dict) -> ModuleType:
    module = ModuleType("lake.example")
    module.__file__ = str(ROOT / "lake" / "example.py")
    module.OVERRIDES_WRITTEN_FOR = written_for
    return module


def failure(written_for: dict, names: dict) -> str:
    with pytest.raises(pytest.fail.Exception) as raised:
        assert_override_current(overriding_module(written_for), "django", names)
    return str(raised.value)


def test_an_override_that_matches_passes():
    names = {Library: {"_hook": ("self", "queue", "*args", "**kwargs"), "__init__": None}}
    assert_override_current(overriding_module({"django": INSTALLED}), "django", names)


def test_another_installed_version_fails_naming_the_module_and_what_to_check():
    message = failure({"django": "1.0"}, {Library: {"_hook": None}})
    assert message == (
        "lake/example.py overrides or calls django's private Library._hook: "
        f"written for django 1.0, installed {INSTALLED}. Check that these still behave "
        "as the override assumes (see the module's docstring), then update "
        "OVERRIDES_WRITTEN_FOR (and the parameters this test expects)."
    )


def test_no_recorded_version_fails():
    assert "no version of django in its OVERRIDES_WRITTEN_FOR" in failure({}, {Library: {}})


def test_a_name_gone_fails():
    message = failure({"django": INSTALLED}, {Library: {"_hook": None, "_gone": None}})
    assert f"django {INSTALLED} has no Library._gone" in message
    assert "Library._hook" in message


def test_other_parameters_fail():
    message = failure({"django": INSTALLED}, {Library: {"_hook": ("self", "queue")}})
    assert (
        "Library._hook takes (self, queue, *args, **kwargs), the override expects (self, queue)"
        in message
    )
