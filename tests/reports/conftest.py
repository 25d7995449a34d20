# The lake fixtures: reports read the lake that the pipeline builds.
from tests.lake.conftest import built_lake, empty_cache, lake, sakila_lake, worker_alive  # noqa: F401
