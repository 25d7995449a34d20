"""The SQL catalog's override of pyiceberg's private code still matches the
installed pyiceberg (tests/overrides.py; lake/catalog/sql.py's docstring)."""

from pyiceberg.catalog.sql import SqlCatalog

from lake.catalog import sql as sql_catalog
from tests.overrides import assert_override_current


def test_the_sql_catalog_matches_the_installed_pyiceberg():
    assert_override_current(
        sql_catalog,
        "pyiceberg",
        {
            SqlCatalog: {
                "_convert_orm_to_iceberg": ("self", "orm_table"),
                "_load_file_io": ("self", "properties", "location"),
            }
        },
    )
