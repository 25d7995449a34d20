from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from rentals.bulk import SakilaDataExists
from rentals.loader import SakilaLoadError, load_sakila


class Command(BaseCommand):
    help = "Load the Sakila CSV files of DIR (one <table>.csv per table) in one transaction."

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="folder holding actor.csv, film.csv, ...")
        parser.add_argument(
            "--replace", action="store_true", help="delete the Sakila data already there first"
        )

    def handle(self, *args, directory: Path, replace: bool, **options):
        try:
            report = load_sakila(directory, replace=replace)
        except (SakilaLoadError, SakilaDataExists) as error:
            raise CommandError(f"Nothing was loaded. {error}") from None
        for table, count in report.rows.items():
            self.stdout.write(f"{table:>14}: {count:>9,} rows")
        self.stdout.write(self.style.SUCCESS(f"Loaded {report.total:,} rows from {directory}"))
