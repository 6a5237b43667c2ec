import argparse
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from c2b.models import Shortcode
from c2b.services.shortcodes import shortcode_save, shortcode_set_enabled


def _amount(value: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        raise CommandError(f"{value!r} is not an amount.") from None


class Command(BaseCommand):
    help = "Manage paybill/till shortcodes: add (create or update), list, disable."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="Create or update a shortcode.")
        add.add_argument("number")
        add.add_argument("--name")
        add.add_argument("--kind", choices=Shortcode.Kind.values)
        add.add_argument("--environment", choices=Shortcode.Environment.values)
        add.add_argument("--api-version", choices=Shortcode.ApiVersion.values)
        add.add_argument("--response-type", choices=Shortcode.ResponseType.values)
        add.add_argument("--min-amount", type=_amount)
        add.add_argument("--max-amount", type=_amount)
        add.add_argument(
            "--require-active-member",
            action=argparse.BooleanOptionalAction,
            help="Validation rejects accounts that are not an active member's number (C2B00012).",
        )
        add.add_argument(
            "--account-pattern", help="Regex the whole account number must match ('' clears)."
        )
        sub.add_parser("list", help="List shortcodes.")
        disable = sub.add_parser(
            "disable", help="Disable a shortcode (validation then rejects it)."
        )
        disable.add_argument("number")
        enable = sub.add_parser("enable", help="Enable a disabled shortcode again.")
        enable.add_argument("number")

    def handle(self, *args, action, **options):
        if action == "add":
            self._add(options)
        elif action == "list":
            self._list()
        else:
            try:
                shortcode_set_enabled(number=options["number"], enabled=action == "enable")
            except Shortcode.DoesNotExist:
                raise CommandError(f"Unknown shortcode {options['number']}.") from None
            self.stdout.write(f"{action.capitalize()}d {options['number']}.")

    def _add(self, options):
        names = [
            "name",
            "kind",
            "environment",
            "api_version",
            "response_type",
            "min_amount",
            "max_amount",
            "account_pattern",
            "require_active_member",
        ]
        fields = {name: options[name] for name in names if options.get(name) is not None}
        try:
            shortcode, created = shortcode_save(number=options["number"], **fields)
        except ValidationError as exc:
            problems = "; ".join(
                f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items()
            )
            raise CommandError(problems) from None
        self.stdout.write(f"{'Created' if created else 'Updated'} {shortcode.number}.")

    def _list(self):
        rows = Shortcode.objects.all()
        if not rows:
            self.stdout.write("No shortcodes yet: add one with 'manage.py shortcode add NUMBER'.")
            return
        self.stdout.write(
            "NUMBER   KIND     ENV         API  RESPONSE   MIN       MAX       PATTERN  ENABLED"
        )
        for s in rows:
            self.stdout.write(
                f"{s.number:<8} {s.kind:<8} {s.environment:<11} {s.api_version:<4} "
                f"{s.response_type:<10} {s.min_amount or '-':<9} {s.max_amount or '-':<9} "
                f"{s.account_pattern or '-':<8} {'yes' if s.enabled else 'no'}"
            )
