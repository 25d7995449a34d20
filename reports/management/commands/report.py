import json
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from lake.query import QueryError
from reports.registry import (
    REPORTS,
    ReportNotFound,
    report_get,
    report_params_clean,
    report_run,
    report_run_get,
)
from sakila_site.csv_safe import csv_write

ERROR_NO_NAME = "Name a report (python manage.py report --list lists them)."
ERROR_BAD_PARAM = "Give parameters as name=value, not {value!r}."
ERROR_UNKNOWN_PARAM = "The report {report} has no parameter {name!r} (it has: {names})."


class Command(BaseCommand):
    help = "Print a report of the lake as CSV (or JSON); --list lists the reports."

    def add_arguments(self, parser):
        parser.add_argument("name", nargs="?", help="the report, e.g. sales_by_store")
        parser.add_argument(
            "--param",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="a parameter, e.g. --param start=2005-06-01 --param store=1 (repeatable)",
        )
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("--as-of-run", type=int, help="read as of this pipeline run")
        parser.add_argument("--refresh", action="store_true", help="recompute, not cached")
        parser.add_argument("--list", action="store_true", help="list the reports")

    def handle(self, *args, name=None, **options):
        if options["list"]:
            return self.handle_list()
        if not name:
            raise CommandError(ERROR_NO_NAME)
        try:
            report = report_get(name)
        except ReportNotFound as error:
            raise CommandError(str(error)) from None
        raw = {}
        for item in options["param"]:
            key, sep, value = item.partition("=")
            if not sep or not key.strip():
                raise CommandError(ERROR_BAD_PARAM.format(value=item))
            names = [p.name for p in report.params]
            if key.strip() not in names:
                raise CommandError(
                    ERROR_UNKNOWN_PARAM.format(report=name, name=key, names=", ".join(names))
                )
            raw[key.strip()] = value
        try:
            params = report_params_clean(report, raw)
            as_of_run = options["as_of_run"]
            run = report_run_get(as_of_run) if as_of_run is not None else None
            result = report_run(report, params, as_of_run=run, refresh=options["refresh"])
        except ValidationError as error:
            raise CommandError(_messages(error)) from None
        except QueryError as error:
            raise CommandError(str(error)) from None
        if options["format"] == "json":
            self.stdout.write(
                json.dumps(
                    {
                        "report": report.name,
                        "params": result.params,
                        "columns": result.columns,
                        "rows": result.rows,
                        "run_id": result.run_id,
                        "as_of": result.as_of,
                        "cached_at": result.cached_at,
                        "from_cache": result.from_cache,
                        # Snapshots read and, on Athena, bytes scanned and cost.
                        "meta": result.meta,
                    },
                    default=_json_default,
                    indent=2,
                )
            )
            return
        # The same CSV as the page's export (formula-like cells neutralised).
        csv_write(
            self.stdout, result.columns, ([row[c] for c in result.columns] for row in result.rows)
        )
        cached = ", from the cache" if result.from_cache else ""
        scanned = (
            f", Athena scanned {result.meta['bytes_scanned']:,} bytes "
            f"(est. ${result.meta['cost_usd']})"
            if "bytes_scanned" in result.meta
            else ""
        )
        self.stderr.write(
            f"{report.title}: {len(result.rows)} rows as of run {result.run_id} "
            f"({result.as_of:%Y-%m-%d %H:%M:%S}){cached}{scanned}"
        )

    def handle_list(self) -> None:
        for report in REPORTS.values():
            params = " ".join(
                f"{p.name}={p.kind}" + (f"[{p.default}]" if p.default is not None else "")
                for p in report.params
            )
            self.stdout.write(f"{report.name:<26}{report.title}  ({params})")
            self.stdout.write(f"{'':<26}{report.description}")


def _messages(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return " ".join(
            f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items()
        )
    return " ".join(error.messages)


def _json_default(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(type(value).__name__)
