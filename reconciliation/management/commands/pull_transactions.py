from django.core.management.base import BaseCommand, CommandError

from c2b.management.shortcodes import shortcodes_chosen
from daraja.errors import DarajaError
from reconciliation.pull import MAX_HOURS, pull_transactions


class Command(BaseCommand):
    help = (
        "Sweep Daraja's Pull Transactions (the last hours' payments, at most 48) for each "
        "enabled shortcode and store the ones no callback brought. Meant for a schedule."
    )

    def add_arguments(self, parser):
        parser.add_argument("--shortcode", default="", help="Only this shortcode.")
        parser.add_argument("--hours", type=int, default=MAX_HOURS, help="Up to 48 (default).")

    def handle(self, *args, shortcode="", hours=MAX_HOURS, **options):
        if not 1 <= hours <= MAX_HOURS:
            raise CommandError(f"--hours must be between 1 and {MAX_HOURS}.")
        failures = 0
        for code in shortcodes_chosen(shortcode):
            try:
                sweep = pull_transactions(shortcode=code, hours=hours)
            except DarajaError as exc:
                failures += 1
                self.stderr.write(f"{code.number}: {exc}")
                continue
            said = f" Daraja: {sweep.message}." if sweep.message else ""
            self.stdout.write(
                f"{code.number}: {sweep.records} listed, {sweep.known} already captured, "
                f"{sweep.backfilled} stored now.{said}"
            )
            if sweep.warning:
                self.stderr.write(f"{code.number}: {sweep.warning}")
        if failures:
            raise CommandError(f"{failures} sweep(s) failed.")
