"""ETL engines: where a pipeline run executes (see ``base.Engine``).

``LAKE_ENGINE`` names a module of this package; adding an engine means
adding a module that defines ``ENGINE``. The engines are imported by name
when asked for, so the pipeline and the orchestration can import this
package while the engines import them.
"""

from importlib import import_module

from django.conf import settings

from lake.engines.base import Engine


def get_engine(name: str) -> Engine:
    """The engine called ``name`` (``local``, ``glue``...): a run's own, say."""
    return import_module(f"lake.engines.{name}").ENGINE()


def current_engine() -> Engine:
    """The engine new runs go to (``LAKE_ENGINE``)."""
    return get_engine(settings.LAKE_ENGINE)


__all__ = ["Engine", "current_engine", "get_engine"]
