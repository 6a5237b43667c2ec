from django.core.management.base import BaseCommand, CommandError

from c2b.management.shortcodes import shortcodes_chosen
from c2b.services.shortcodes import shortcode_register_urls
from daraja.errors import CallbackURLRejected, DarajaError


class Command(BaseCommand):
    help = "Register our validation and confirmation URLs with Daraja for enabled shortcodes."

    def add_arguments(self, parser):
        parser.add_argument(
            "--shortcode", help="Only this shortcode number (default: every enabled one)."
        )

    def handle(self, *args, shortcode=None, **options):
        shortcodes = shortcodes_chosen(shortcode)
        failures = 0
        for code in shortcodes:
            try:
                result = shortcode_register_urls(shortcode=code)
            except (CallbackURLRejected, DarajaError) as exc:
                failures += 1
                self.stderr.write(self.style.ERROR(f"{code.number}: {exc}"))
                continue
            self.stdout.write(
                self.style.SUCCESS(
                    f"{code.number}: registered ({code.api_version}, ResponseType "
                    f"{code.response_type}); {result.description or 'success'}"
                )
            )
        if failures:
            raise CommandError(f"{failures} of {len(shortcodes)} registrations failed.")
