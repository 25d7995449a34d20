import os
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from lake import selectors
from rentals import bulk

DEFAULT_ADMIN_USERNAME = "admin"
DEFAULT_ADMIN_PASSWORD = "sakila-admin"


class Command(BaseCommand):
    help = (
        "Prepare the embedded demo: load Sakila data if the database has none (the CSVs of "
        "SAKILA_CSV_DIR, else generated scale 1), fill the lake once if it is empty, and "
        "create the demo admin user (DEMO_ADMIN_USERNAME / DEMO_ADMIN_PASSWORD)."
    )

    def handle(self, *args, **options):
        if any(bulk.sakila_row_counts().values()):
            self.stdout.write("Demo data: the database already holds Sakila data, kept as it is.")
        elif csv_dir := os.environ.get("SAKILA_CSV_DIR"):
            self.stdout.write(f"Demo data: loading the CSV files of {csv_dir}")
            call_command("load_sakila", Path(csv_dir), stdout=self.stdout)
        else:
            self.stdout.write("Demo data: generating Sakila-shaped data at scale 1")
            call_command("generate_sakila", scale=1, stdout=self.stdout)
        self.ensure_lake()
        self.ensure_admin()

    def ensure_lake(self) -> None:
        if selectors.published_run() is not None:
            self.stdout.write("Lake: already published, kept as it is.")
            return
        self.stdout.write("Lake: first pipeline run")
        try:
            call_command("lake", "run", stdout=self.stdout)
        except CommandError as error:  # the site still works without a lake
            self.stderr.write(f"Lake: the first run failed ({error}); see `manage.py lake run`.")

    def ensure_admin(self) -> None:
        username = os.environ.get("DEMO_ADMIN_USERNAME", DEFAULT_ADMIN_USERNAME)
        password = os.environ.get("DEMO_ADMIN_PASSWORD", DEFAULT_ADMIN_PASSWORD)
        users = get_user_model().objects
        if users.filter(username=username).exists():
            self.stdout.write(f"Admin user: {username!r} exists already (password unchanged).")
            return
        users.create_superuser(username=username, email="", password=password)
        self.stdout.write(
            self.style.SUCCESS(f"Admin user created: username {username!r}, password {password!r}")
        )
