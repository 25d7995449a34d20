import time
from argparse import ArgumentTypeError
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from rentals.generator import generate_sakila


def end_day(value: str) -> date:
    if value == "today":
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ArgumentTypeError(f"expected YYYY-MM-DD or 'today', not {value!r}") from None


class Command(BaseCommand):
    help = (
        "Generate Sakila-shaped data, deterministic for a seed. Scale 1 has the real row "
        "counts; scale N multiplies customers, inventory, rentals and payments by N."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=1.0, help="size, 1 = real Sakila")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--replace", action="store_true", help="delete the Sakila data already there first"
        )
        parser.add_argument(
            "--end",
            type=end_day,
            default=None,
            help="last day of the period, YYYY-MM-DD or 'today' (default: Sakila's 2006-02-14); "
            "rentals span the 267 days up to it",
        )

    def handle(
        self, *args, scale: float, seed: int, replace: bool, end: date | None = None, **options
    ):
        started = time.perf_counter()

        def progress(table: str, rows: int) -> None:
            self.stdout.write(f"{table:>14}: {rows:>10,} rows")

        try:
            report = generate_sakila(
                scale=scale, seed=seed, replace=replace, progress=progress, end=end
            )
        except ValueError as error:
            raise CommandError(f"Nothing was generated. {error}") from None
        seconds = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Generated {report.total:,} rows (scale {scale:g}, seed {seed}) in {seconds:.1f} s"
            )
        )
