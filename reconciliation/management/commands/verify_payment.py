import time

from django.core.management.base import BaseCommand, CommandError

from c2b.management.shortcodes import shortcode_named
from daraja.errors import DarajaError
from reconciliation.models import StatusCheck
from reconciliation.status import VerifyRefused, payment_verify


class Command(BaseCommand):
    help = (
        "Ask M-Pesa (Transaction Status) whether a receipt was paid. The answer arrives a few "
        "seconds later on our ResultURL and shows on the payment's page; --wait waits for it."
    )

    def add_arguments(self, parser):
        parser.add_argument("trans_id", help="The M-Pesa receipt number.")
        parser.add_argument("--shortcode", default="", help="When the ledger does not know it.")
        parser.add_argument("--wait", type=float, default=0, help="Seconds to wait for M-Pesa.")

    def handle(self, *args, trans_id, shortcode="", wait=0, **options):
        code = shortcode_named(shortcode) if shortcode else None
        try:
            check = payment_verify(trans_id=trans_id, shortcode=code, user="verify_payment")
        except (VerifyRefused, DarajaError) as exc:
            raise CommandError(str(exc)) from None
        deadline = time.monotonic() + wait
        while check.verdict == StatusCheck.Verdict.WAITING and time.monotonic() < deadline:
            time.sleep(0.2)
            check.refresh_from_db()
        self.stdout.write(f"{check.trans_id}: {check.get_verdict_display()}. {check.detail}")
