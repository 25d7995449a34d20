"""The test run's own var dir and Redis databases (tests/isolation.py)."""

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests import isolation


def test_the_settings_use_the_runs_var_dir_never_the_projects():
    var_dir = Path(os.environ["SAKILA_VAR_DIR"])
    assert var_dir == settings.VAR_DIR
    if isolation.WORKER:  # an xdist worker: a directory of its own
        assert var_dir.name == isolation.WORKER
    if isolation.created_var_dir():  # not named by SAKILA_VAR_DIR: a new one, not var/
        assert var_dir.resolve() != (settings.BASE_DIR / "var").resolve()
        assert var_dir.is_relative_to(isolation.created_var_dir())
    if not settings.CACHE_URL:
        assert Path(settings.CACHES["default"]["LOCATION"]).parent == var_dir
    if connection.vendor == "sqlite":
        assert Path(connection.settings_dict["NAME"]).parent == var_dir


@pytest.mark.parametrize(
    ("url", "index", "expected"),
    [
        ("redis://127.0.0.1:6379/15", 0, "redis://127.0.0.1:6379/15"),
        ("redis://127.0.0.1:6379/15", 1, "redis://127.0.0.1:6379/14"),
        (
            "rediss://user:pw@cache:6380/3?ssl_cert_reqs=none",
            2,
            "rediss://user:pw@cache:6380/1?ssl_cert_reqs=none",
        ),
    ],
)
def test_each_worker_takes_a_redis_database_of_its_own(url, index, expected):
    assert isolation.redis_url_for_worker(url, index) == expected


def test_a_redis_url_without_a_database_for_a_worker_is_refused():
    with pytest.raises(pytest.UsageError, match="leaves no Redis database for xdist worker gw1"):
        isolation.redis_url_for_worker("redis://127.0.0.1:6379", 1)
