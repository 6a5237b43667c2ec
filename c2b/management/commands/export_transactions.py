from datetime import datetime

from django.core.management.base import BaseCommand, CommandError

from c2b.exports import export_rows, write_csv
from c2b.selectors import payments_filter
from core.eat import eat_moment


def _moment(value: str, option: str) -> datetime:
    try:
        return eat_moment(value)
    except ValueError as exc:
        raise CommandError(f"{option} {exc}") from None


class Command(BaseCommand):
    help = "Export payments as CSV (Daraja field names), ordered by TransTime then TransID."

    def add_arguments(self, parser):
        parser.add_argument(
            "--since", help="Include payments at or after this ISO 8601 time (EAT if no offset)."
        )
        parser.add_argument(
            "--until", help="Include payments before this ISO 8601 time (EAT if no offset)."
        )
        parser.add_argument("--shortcode", help="Only this paybill/till number.")
        parser.add_argument("--output", help="Write to this file instead of standard output.")

    def handle(self, *args, since=None, until=None, shortcode=None, output=None, **options):
        payments = payments_filter(
            since=_moment(since, "--since") if since else None,
            until=_moment(until, "--until") if until else None,
            shortcode=shortcode,
        )
        rows = export_rows(payments)
        if output:
            with open(output, "w", newline="", encoding="utf-8") as out:
                count = write_csv(rows, out)
            self.stderr.write(f"Wrote {count} payments to {output}")
        else:
            # csv rows end in \r\n, so OutputWrapper adds no newline of its own.
            write_csv(rows, self.stdout)
