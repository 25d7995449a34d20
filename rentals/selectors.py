"""Read queries over the rental database."""

from rentals.models import SAKILA_MODELS


def table_row_counts() -> list[tuple[str, int]]:
    """(table name, row count) for every Sakila table, in load order."""
    return [(model._meta.db_table, model.objects.count()) for model in SAKILA_MODELS]
