from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Max

from lake import selectors
from rentals import bulk
from rentals import selectors as rentals_selectors
from rentals.models import Rental
from tests.rentals.sakila_csv import write_sakila_csvs

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def lake(settings, tmp_path):
    settings.LAKE_WAREHOUSE = str(tmp_path / "lake")
    settings.LAKE_CATALOG_URI = f"sqlite:///{tmp_path / 'catalog.sqlite3'}"


def test_setup_demo_loads_data_fills_the_lake_and_creates_the_admin(
    lake, role_groups, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("SAKILA_CSV_DIR", str(write_sakila_csvs(tmp_path / "csv")))
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "demo-pass-123")

    call_command("setup_demo")

    assert bulk.sakila_row_counts()["rental"] == 2
    assert selectors.published_run() is not None
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("demo-pass-123")
    assert "password 'demo-pass-123'" in capsys.readouterr().out
    clerk = get_user_model().objects.get(username="clerk")
    assert clerk.check_password("sakila-clerk") and not clerk.is_superuser
    assert rentals_selectors.staff_for_user(clerk).store_id == 1
    assert clerk.has_perm("rentals.add_rental") and not clerk.has_perm("lake.view_pipelinerun")
    manager = get_user_model().objects.get(username="manager")
    assert manager.check_password("sakila-manager")
    assert manager.has_perm("lake.view_pipelinerun") and manager.has_perm("rentals.change_film")

    call_command("setup_demo")  # a second time keeps everything as it is
    out = capsys.readouterr().out
    assert "already holds Sakila data" in out
    assert "Lake: already published" in out
    assert "exists already" in out
    assert bulk.sakila_row_counts()["rental"] == 2


@pytest.mark.slow
def test_setup_demo_without_csvs_generates_data_up_to_today(lake, role_groups, monkeypatch):
    monkeypatch.delenv("SAKILA_CSV_DIR", raising=False)

    call_command("setup_demo")

    latest = Rental.objects.aggregate(latest=Max("rental_date"))["latest"]
    assert date.today() - timedelta(days=1) <= latest.date() <= date.today()
    assert bulk.sakila_row_counts()["rental"] > 15_000
    assert selectors.published_run() is not None
