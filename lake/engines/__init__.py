"""ETL engines: where a pipeline run executes (see ``base.Engine``).

``LAKE_ENGINE`` names a module of this package; adding an engine means
adding a module that defines ``ENGINE``.
"""

from importlib import import_module

from lake.engines.base import Engine


def get_engine(name: str) -> Engine:
    """The engine called ``name`` (``local``, ``glue``...)."""
    return import_module(f"lake.engines.{name}").ENGINE()


__all__ = ["Engine", "get_engine"]
