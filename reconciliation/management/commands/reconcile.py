from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from c2b.exports import write_csv
from c2b.management.shortcodes import shortcode_named
from core.eat import eat_moment
from reconciliation.matching import reconciliation_run
from reconciliation.reports import report_rows


class Command(BaseCommand):
    help = (
        "Compare the ledger with the imported statements: every receipt gets one outcome "
        "(matched, missing, backfilled, unconfirmed, mismatch, reversed). Exit status 0 when the "
        "run completes, whatever it found."
    )

    def add_arguments(self, parser):
        parser.add_argument("--shortcode", default="", help="Only this shortcode.")
        parser.add_argument("--since", help="From this ISO 8601 date or time (EAT if no offset).")
        parser.add_argument("--until", help="Up to this date (inclusive) or time (EAT).")
        parser.add_argument(
            "--backfill", action="store_true", help="Store missing payments (source statement)."
        )
        parser.add_argument("--report", type=Path, help="Write every outcome to this CSV file.")

    def handle(
        self, *args, shortcode="", since=None, until=None, backfill=False, report=None, **options
    ):
        code = shortcode_named(shortcode) if shortcode else None
        try:
            start = eat_moment(since) if since else None
            end = eat_moment(until, end_of_day=True) if until else None
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        run = reconciliation_run(
            shortcode=code, since=start, until=end, backfill=backfill, user="reconcile"
        )
        if not run.covered and not run.counts:
            self.stdout.write("No imported statement covers that: nothing to compare.")
        for outcome, count in sorted(run.counts.items()):
            self.stdout.write(
                f"{outcome:12} {count:>8,}  KES {float(run.amounts[outcome]):>16,.2f}"
            )
        self.stdout.write(f"Reconciliation #{run.pk}: {sum(run.counts.values()):,} receipts.")
        if report:
            with report.open("w", newline="", encoding="utf-8") as out:
                rows = write_csv(report_rows(run), out)
            self.stdout.write(f"Report: {rows:,} rows in {report}")
