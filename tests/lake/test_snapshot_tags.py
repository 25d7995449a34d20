"""Published snapshots survive every snapshot expiry, ours or Glue's optimizers'
(issue 25, defect 2): Iceberg tags keep them until a later publish replaced
them and the retention window has passed (lake/core/snapshot_tags.py)."""

from datetime import UTC, datetime, timedelta

import pytest
from pyiceberg.expressions import AlwaysTrue

from lake.catalog import load_table
from lake.core.snapshot_tags import PUBLISHED, expired_tags
from lake.core.table_maintenance import maintain_table
from lake.core.table_writes import replace_rows
from rentals.generator import generate_sakila
from rentals.models import Film
from tests.lake.conftest import lake_query, run_pipeline

# Tags are made once the publishing transaction has committed.
pytestmark = pytest.mark.django_db(transaction=True)
TABLE = "marts.dim_film"


def glue_compacts(identifier: str) -> None:
    """What Glue's compaction optimizer does after a publish: a commit of the
    same rows, so the published snapshot is no longer the current one."""
    table = load_table(identifier)
    replace_rows(table, table.scan().to_arrow(), AlwaysTrue())


def glue_expires(identifier: str, now: datetime) -> None:
    """Glue's snapshot retention optimizer past its retention period: Iceberg's
    expiry of every snapshot older than now that no branch or tag protects."""
    table = load_table(identifier)
    table.maintenance.expire_snapshots().older_than(now).commit()


def test_the_published_snapshot_survives_compaction_and_expiry(lake, settings):
    generate_sakila(scale=0.01, seed=3)
    run = run_pipeline(full=True)
    published = run.snapshots[TABLE]
    assert load_table(TABLE).metadata.refs[PUBLISHED].snapshot_id == published

    glue_compacts(TABLE)
    glue_expires(TABLE, datetime.now(UTC) + timedelta(days=30))  # nothing published for a month

    assert published in {s.snapshot_id for s in load_table(TABLE).snapshots()}
    assert lake_query("select count(*) as n from dim_film", run.snapshots) == [
        {"n": Film.objects.count()}
    ]


def test_a_replaced_snapshot_is_kept_for_the_window_then_may_go(lake, settings):
    settings.LAKE_RETENTION_DAYS = 2
    generate_sakila(scale=0.01, seed=3)
    first = run_pipeline(full=True)
    film = Film.objects.order_by("pk").first()
    film.title = "RETITLED"
    film.save()
    second = run_pipeline()
    old, new = first.snapshots[TABLE], second.snapshots[TABLE]
    assert old != new

    table = load_table(TABLE)
    refs = table.metadata.refs
    assert refs[PUBLISHED].snapshot_id == new
    assert refs[f"run-{first.pk}"].snapshot_id == old
    now = datetime.now(UTC)
    assert expired_tags(table, now + timedelta(days=1)) == []  # inside the window
    assert expired_tags(table, now + timedelta(days=2, minutes=1)) == [f"run-{first.pk}"]

    # Our maintenance keeps what a tag protects, whatever its plan's keep set says.
    result = maintain_table(
        TABLE, table, published=new, keep=set(), orphan_min_age=timedelta(hours=24)
    )
    table = load_table(TABLE)
    assert old in {s.snapshot_id for s in table.snapshots()}
    assert result.snapshots_expired >= 0
    sql = f"select title from dim_film where film_id = {film.pk}"
    assert lake_query(sql, first.snapshots)[0]["title"] != "RETITLED"  # time travel to run 1
    assert lake_query(sql, second.snapshots)[0]["title"] == "RETITLED"
