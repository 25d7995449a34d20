# The lake fixtures: reports read the lake that the pipeline builds.
from tests.lake.conftest import empty_cache, lake, worker_alive  # noqa: F401
