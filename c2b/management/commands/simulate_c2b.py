from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from c2b.management.shortcodes import shortcode_named
from c2b.services.shortcodes import shortcode_simulate
from daraja.errors import DarajaError


def _amount(value: str) -> Decimal:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise CommandError(f"--amount {value!r} is not a number.") from None
    if amount <= 0 or amount != amount.to_integral_value():
        raise CommandError("--amount must be a positive whole number of shillings.")
    return amount.quantize(Decimal("1"))


class Command(BaseCommand):
    help = "Ask the Daraja sandbox (or the emulator) to simulate a customer payment."

    def add_arguments(self, parser):
        parser.add_argument("--shortcode", required=True)
        parser.add_argument("--amount", required=True, type=_amount)
        parser.add_argument("--msisdn", required=True, help="Payer, e.g. 254708374149 (sandbox).")
        parser.add_argument("--account", default="", help="BillRefNumber (paybills).")

    def handle(self, *args, shortcode, amount, msisdn, account, **options):
        code = shortcode_named(shortcode)
        try:
            result = shortcode_simulate(
                shortcode=code, amount=amount, msisdn=msisdn, account=account
            )
        except DarajaError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Accepted by Daraja ({result.originator_conversation_id}): {result.description}"
            )
        )
