"""Query backends for reports and the SQL console: ``QUERY_ENGINE`` names a
module of this package that defines ``ENGINE`` (a ``base.QueryEngine``)."""

from importlib import import_module

from django.conf import settings

from lake.query.base import QueryEngine, QueryError


def get_query_engine(snapshots: dict[str, int] | None = None) -> QueryEngine:
    """The configured backend at ``snapshots`` (the published ones by default)."""
    return import_module(f"lake.query.{settings.QUERY_ENGINE}").ENGINE(snapshots)


__all__ = ["QueryEngine", "QueryError", "get_query_engine"]
