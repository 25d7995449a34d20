from pathlib import Path

import pytest
from django.conf import settings

REAL_SAKILA_DIR = Path(__file__).resolve().parents[2] / "shared" / "sakila"
ON_MYSQL = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.mysql"

only_on_mysql = pytest.mark.skipif(not ON_MYSQL, reason="needs DATABASE_URL=mysql://...")


@pytest.fixture
def real_sakila_dir() -> Path:
    """The real Sakila CSVs (shared/sakila beside the checkout), or skip."""
    if not (REAL_SAKILA_DIR / "rental.csv").is_file():
        pytest.skip(f"the real Sakila data is not at {REAL_SAKILA_DIR}")
    return REAL_SAKILA_DIR
