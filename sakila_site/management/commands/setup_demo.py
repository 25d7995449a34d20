import os
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from lake import selectors
from rentals import bulk, services
from rentals.models import Staff, Store
from sakila_site import roles

DEFAULT_ADMIN_USERNAME = "admin"
DEFAULT_ADMIN_PASSWORD = "sakila-admin"
# Demo logins in the other roles: (role, username, password, staff row they work as).
DEMO_ROLE_USERS = (
    (roles.CLERK, "clerk", "sakila-clerk", "first staff member of store 1"),
    (roles.MANAGER, "manager", "sakila-manager", "manager of store 2"),
)


class Command(BaseCommand):
    help = (
        "Prepare the embedded demo: load Sakila data if the database has none (the CSVs of "
        "SAKILA_CSV_DIR, else generated scale 1), fill the lake once if it is empty, and "
        "create the demo users: an admin (DEMO_ADMIN_USERNAME / DEMO_ADMIN_PASSWORD), "
        "a clerk and a manager linked to staff rows."
    )

    def handle(self, *args, **options):
        if any(bulk.sakila_row_counts().values()):
            self.stdout.write("Demo data: the database already holds Sakila data, kept as it is.")
        elif csv_dir := os.environ.get("SAKILA_CSV_DIR"):
            self.stdout.write(f"Demo data: loading the CSV files of {csv_dir}")
            call_command("load_sakila", Path(csv_dir), stdout=self.stdout)
        else:
            # Ending today, so that "overdue" and the charts of recent months mean something.
            self.stdout.write("Demo data: generating Sakila-shaped data at scale 1, up to today")
            # As on the command line, so that "today" is parsed by the command's own option.
            call_command("generate_sakila", "--scale=1", "--end=today", stdout=self.stdout)
        self.ensure_lake()
        self.ensure_admin()
        self.ensure_role_users()

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

    def ensure_role_users(self) -> None:
        stores = list(Store.objects.select_related("manager_staff").order_by("pk")[:2])
        if not stores:
            return
        staff_of = {
            roles.CLERK: Staff.objects.filter(store=stores[0]).order_by("pk").first(),
            roles.MANAGER: stores[-1].manager_staff,
        }
        users = get_user_model().objects
        for role, username, password, works_as in DEMO_ROLE_USERS:
            if users.filter(username=username).exists():
                self.stdout.write(f"{role} user: {username!r} exists already.")
                continue
            staff = staff_of[role]
            if hasattr(staff, "profile"):  # that staff row already has a login
                staff = None
            services.staff_user_create(username=username, password=password, role=role, staff=staff)
            self.stdout.write(
                self.style.SUCCESS(
                    f"{role} user created: username {username!r}, password {password!r}"
                    + (f", works as {staff} ({works_as})" if staff else "")
                )
            )
