import getpass
import os
import time
from argparse import ArgumentTypeError
from datetime import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from lake import selectors
from lake.aws.names import workflow_name
from lake.catalog import CatalogUnavailable, load_table
from lake.core.table_maintenance import storage_usage
from lake.engines import current_engine
from lake.engines.base import EngineUnavailable
from lake.models import PipelineCheck, PipelineRun
from lake.pipeline.maintain import (
    maintain_tables,
    maintenance_plan,
    maintenance_run_execute,
    raw_retention,
)
from lake.pipeline.runner import AlreadyRunning, pipeline_run_create
from lake.query import QueryError
from lake.query.console import EXPORT_ROW_LIMIT, console_query_run
from lake.services import RunStateError, lake_maintain_request
from lake.tasks import pipeline_run_poll_later, poll_delay
from sakila_site.csv_safe import csv_write


def os_user() -> str:
    """Who runs this command: the operating-system user (the audit names them)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry for the uid
        return f"uid {os.getuid()}"


def as_of_time(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        raise ArgumentTypeError(f"--as-of: expected YYYY-MM-DD[ HH:MM], not {value!r}") from None


class Command(BaseCommand):
    help = (
        "Run the lake pipeline, query the marts, list the lake's tables; "
        "deploy or destroy its AWS resources."
    )

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)
        run = commands.add_parser("run", help="run the pipeline now, in the foreground")
        run.add_argument("--full", action="store_true", help="rebuild everything from the OLTP")
        run.add_argument(
            "--as-of",
            type=as_of_time,
            default=None,
            help="accrue late fees of rentals still out to this local time (YYYY-MM-DD[ HH:MM]; "
            "default: when the run reads the rental database), e.g. to replay a past day",
        )
        maintain = commands.add_parser(
            "maintain",
            help="compact the lake's tables, expire snapshots older than the retention window, "
            "remove unreferenced files and old raw increments, now, in the foreground "
            "(on AWS Glue: retire old runs and remove old raw increments; the table "
            "optimizers do the rest)",
        )
        maintain.add_argument(
            "--dry-run", action="store_true", help="print the plan, change nothing"
        )
        query = commands.add_parser("query", help="run read-only SQL on the marts, print CSV")
        query.add_argument("sql")
        commands.add_parser("tables", help="list the lake's tables with rows, snapshot, schema")
        checks = commands.add_parser(
            "checks",
            help="the data checks of a run and their results; exit 1 when one of error "
            "severity failed",
        )
        checks.add_argument(
            "--run", type=int, default=None, help="the run (default: the last that ran checks)"
        )
        deploy = commands.add_parser("deploy", help="create or update the lake's AWS resources")
        deploy.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
        destroy = commands.add_parser("destroy", help="remove the AWS resources deploy made")
        destroy.add_argument(
            "--dry-run", action="store_true", help="print the plan, change nothing"
        )
        destroy.add_argument(
            "--delete-data",
            action="store_true",
            help="also drop the Glue databases and delete the lake's files and Athena results",
        )
        destroy.add_argument(
            "--ignore-active-run",
            action="store_true",
            help="destroy even while a run of the workflow is active (that run then fails)",
        )
        destroy.add_argument(
            "--no-input",
            "--noinput",
            action="store_false",
            dest="interactive",
            help="do not ask to confirm",
        )

    def handle(self, *args, action: str, **options):
        getattr(self, f"handle_{action}")(**options)

    def handle_run(self, *, full: bool, as_of: datetime | None = None, **options) -> None:
        engine = current_engine()
        if as_of is not None and not engine.takes_as_of:
            raise CommandError(
                f"--as-of does not run on LAKE_ENGINE={settings.LAKE_ENGINE}, which "
                "accrues late fees to when the run starts."
            )
        try:
            engine.check_available()
        except EngineUnavailable as error:
            raise CommandError(str(error)) from None
        try:
            run = pipeline_run_create(
                full=full, trigger=PipelineRun.Trigger.COMMAND, os_user=os_user()
            )
        except AlreadyRunning as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Run {run.pk} ({'full' if run.full else 'incremental'}) started")
        if engine.runs_elsewhere:
            run = self._follow(engine, run)
        else:  # to its end, here
            engine.start(run, as_of=as_of)
            run.refresh_from_db()
        self.stdout.write(f"{'step':<22}{'status':<11}{'rows':>10}{'files':>7}{'seconds':>9}")
        for step in run.steps.all():
            seconds = f"{step.seconds:.2f}" if step.seconds is not None else ""
            self.stdout.write(
                f"{step.name:<22}{step.status:<11}{step.rows:>10,}{step.files_written:>7}"
                f"{seconds:>9}"
            )
        self._end(run, "Run")

    def _end(self, run: PipelineRun, title: str) -> None:
        total = (run.finished_at - run.started_at).total_seconds()
        if run.status != PipelineRun.Status.SUCCEEDED:
            checks_failed = run.status == PipelineRun.Status.CHECKS_FAILED
            ended = "ended with checks failed" if checks_failed else "failed"
            raise CommandError(f"{title} {run.pk} {ended} after {total:.1f} s: {run.error}")
        self.stdout.write(self.style.SUCCESS(f"{title} {run.pk} succeeded in {total:.1f} s"))

    def handle_checks(self, *, run: int | None, **options) -> None:
        try:
            checked = selectors.pipeline_run_checked_get(run_id=run)
        except PipelineRun.DoesNotExist:
            raise CommandError(
                f"Run {run} does not exist." if run else "No run has run its checks yet."
            ) from None
        checks = list(checked.checks.all())
        if not checks:
            raise CommandError(
                f"Run {checked.pk} ran no checks ({checked.get_status_display().lower()})."
            )
        self.stdout.write(
            f"Run {checked.pk} ({checked.get_status_display().lower()}): {len(checks)} checks"
        )
        for check in checks:
            line = f"{check.status:<7} {check.severity:<5} {check.table}: {check.name}"
            if check.failing:
                line += f" ({check.failing:,} rows)"
            if check.message:
                line += f": {check.message}"
            self.stdout.write(line)
            for row in check.rows[:5] if check.status != "passed" else []:
                self.stdout.write(f"        {row}")
        if any(check.status in PipelineCheck.BLOCKING for check in checks):
            raise CommandError(f"Run {checked.pk}: checks of error severity failed.", returncode=1)

    def handle_maintain(self, *, dry_run: bool, **options) -> None:
        plan = maintenance_plan()
        reach = plan.readable_from
        self.stdout.write(
            f"Retention {settings.LAKE_RETENTION_DAYS:g} days: snapshots of runs that ended "
            f"before {plan.cutoff:%Y-%m-%d %H:%M} are expired ({len(plan.retired_runs)} runs); "
            + (f"time travel reaches back to run {reach.pk}." if reach else "no run to read yet.")
        )
        engine = current_engine()
        if dry_run:
            if engine.tables_maintained_by:
                self.stdout.write(f"tables: {engine.tables_maintained_by}.")
            else:
                for result in maintain_tables(plan, dry_run=True):
                    self.stdout.write(f"{result.table}: {result.summary(planned=True)}")
            raw = raw_retention(plan, engine, dry_run=True)
            self.stdout.write(f"raw zone: {raw.summary(planned=True)}")
            self.stdout.write("Dry run: nothing was changed.")
            return
        try:
            run = lake_maintain_request(
                trigger=PipelineRun.Trigger.COMMAND, os_user=os_user(), send=False
            )
        except (AlreadyRunning, RunStateError) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Maintenance run {run.pk} started")
        run = maintenance_run_execute(run, engine)
        for step in run.steps.all():
            name = step.name.removeprefix("maintain ")
            self.stdout.write(f"{name}: {step.error or step.log}")
        self._end(run, "Maintenance run")

    def _follow(self, engine, run: PipelineRun) -> PipelineRun:
        """Start the run on an engine that runs elsewhere (the Glue workflow) and
        poll it to its end, printing each step as its state changes. Ctrl-C
        leaves the run to the workers' polls."""
        engine.start(run)
        run.refresh_from_db()
        if run.glue_run_id:
            self.stdout.write(f"Glue workflow {workflow_name()}, run {run.glue_run_id}")
        seen: dict[str, str] = {}
        attempt = 0
        try:
            while True:
                for name, status in run.steps.values_list("name", "status"):
                    if seen.get(name) != status and " " not in name:  # jobs and crawler
                        self.stdout.write(f"  {name:<20}{status}")
                        seen[name] = status
                if not run.is_active:
                    return run
                time.sleep(poll_delay(attempt))
                attempt += 1
                run = engine.refresh(run)
        except KeyboardInterrupt:
            pipeline_run_poll_later(run.pk, attempt, poll_delay(attempt))
            raise CommandError(
                f"Stopped following run {run.pk}: it goes on, the workers poll it "
                "(see /lake/ or cancel it there)."
            ) from None

    def handle_query(self, *, sql: str, **options) -> None:
        """The SQL console's query, with its limits (time, memory, rows, bytes of a
        download); lists, structs and maps printed as text."""
        try:
            result = console_query_run(
                sql, limit=EXPORT_ROW_LIMIT, max_bytes=settings.SQL_CONSOLE_EXPORT_MAX_BYTES
            )
        except QueryError as error:
            raise CommandError(str(error)) from None
        csv_write(self.stdout, result.columns, result.rows)
        if result.capped:
            self.stderr.write(f"Only the first {result.limit:,} rows were printed.")

    def handle_tables(self, **options) -> None:
        run = selectors.published_run()
        if run is None:
            self.stdout.write(
                "The lake has no published data yet: run `python manage.py lake run`."
            )
        else:
            self.stdout.write(f"Published by run {run.pk} at {run.finished_at:%Y-%m-%d %H:%M:%S}")
            for identifier, snapshot_id in run.snapshots.items():
                table = load_table(identifier)
                if table is None:
                    continue
                snapshot = table.snapshot_by_id(snapshot_id)
                summary = (snapshot.summary if snapshot else None) or {}
                rows = summary.get("total-records", "?")
                live_files = summary.get("total-data-files", "?")
                live_bytes = int(summary.get("total-files-size") or 0)
                files, size = storage_usage(table)
                self.stdout.write(
                    f"\n{identifier}  rows {rows}  snapshot {snapshot_id}  "
                    f"data {live_files} files ({live_bytes / 1e6:.1f} MB)  "
                    f"stored {files} files ({size / 1e6:.1f} MB, with metadata and kept snapshots)"
                )
                for field in table.schema().fields:
                    self.stdout.write(f"    {field.name:<22}{field.field_type}")
        try:
            crawled_tables = current_engine().crawled_tables()
        except CatalogUnavailable as error:
            raise CommandError(str(error)) from error
        for crawled in crawled_tables:
            self.stdout.write(
                f"\nraw.{crawled.name}  {len(crawled.partitions)} partitions  "
                f"schema v{crawled.schema_version}  {crawled.location}"
            )
            for column in crawled.columns:
                self.stdout.write(f"    {column['name']:<22}{column['type']}")

    # boto3 is imported only by the AWS subcommands: the others never need it.
    def handle_deploy(self, *, dry_run: bool, **options) -> None:
        from lake.aws.deploy import deploy_plan

        self._carry_out(deploy_plan, dry_run=dry_run)

    def handle_destroy(
        self,
        *,
        dry_run: bool,
        delete_data: bool,
        interactive: bool = True,
        ignore_active_run: bool = False,
        **options,
    ) -> None:
        from lake.aws.deploy import destroy_plan

        def confirm() -> bool:
            if not interactive:
                return True
            what = "and the lake's data " if delete_data else ""
            try:
                answer = input(f"This deletes the resources above {what}for good. Type 'yes': ")
            except EOFError:  # no one to answer
                return False
            return answer.strip() == "yes"

        self._carry_out(
            lambda: destroy_plan(delete_data=delete_data, ignore_active_run=ignore_active_run),
            dry_run=dry_run,
            confirm=confirm,
        )

    def _carry_out(self, make_plan, *, dry_run: bool, confirm=None) -> None:
        """Print the plan, then apply it (unless a dry run or nothing changes)."""
        from lake.aws.deploy import DeployError, plan_apply

        try:
            plan = make_plan()
        except DeployError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(plan.render())
        if dry_run:
            self.stdout.write("Dry run: nothing was changed.")
            return
        if not plan.changing:
            self.stdout.write(self.style.SUCCESS("Nothing to change."))
            return
        if confirm and not confirm():
            raise CommandError("Cancelled: nothing was changed.")
        try:
            plan_apply(plan, on_applied=lambda action: self.stdout.write(f"  {action.done()}"))
        except DeployError as error:
            raise CommandError(str(error)) from None
        done = "Deployed" if plan.command == "deploy" else "Destroyed"
        self.stdout.write(self.style.SUCCESS(f"{done}: {plan.summary(applied=True)}."))
