from django.core.management.base import BaseCommand, CommandError

from c2b.management.shortcodes import shortcode_named
from daraja.errors import DarajaError
from reconciliation.pull import pull_register


class Command(BaseCommand):
    help = "Register a shortcode for Daraja's Pull Transactions API (once per shortcode)."

    def add_arguments(self, parser):
        parser.add_argument("--shortcode", required=True)
        parser.add_argument(
            "--nominated-number", default="", help="2547XXXXXXXX (default: the setting)."
        )

    def handle(self, *args, shortcode, nominated_number="", **options):
        code = shortcode_named(shortcode)
        try:
            reply = pull_register(shortcode=code, nominated_number=nominated_number)
        except DarajaError as exc:
            raise CommandError(str(exc)) from None
        state = "was already registered" if reply.already_registered else "registered"
        self.stdout.write(f"{shortcode} {state} for Pull Transactions: {reply.description}")
