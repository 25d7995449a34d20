from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from rentals.widen import WIDE_TYPE, WidenError, widen, widen_plan


class Command(BaseCommand):
    help = (
        "Widen the narrow ids of a database made by MySQL's own Sakila DDL (SMALLINT, "
        f"TINYINT, MEDIUMINT) to {WIDE_TYPE}, foreign keys included. Stop the site and "
        "take a backup first."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="print what would change, change nothing"
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, dry_run: bool, database: str, **options):
        if connections[database].vendor != "mysql":
            self.stdout.write(
                "Nothing to widen: only MySQL has narrow ids (our migrations make every id INT)."
            )
            return
        plan = widen_plan(database)
        if not plan.columns:
            self.stdout.write("Nothing to widen: every id is INT or wider.")
            return
        for line in plan.lines():
            self.stdout.write(f"  {line}")
        if dry_run:
            self.stdout.write(
                f"Dry run: {len(plan.columns)} columns would be widened, nothing changed."
            )
            return
        try:
            widen(plan, database)
        except WidenError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            self.style.SUCCESS(f"Widened {len(plan.columns)} id columns to {WIDE_TYPE}.")
        )
