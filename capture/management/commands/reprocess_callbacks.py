from django.core.management.base import BaseCommand

from c2b.models import CallbackReceipt
from capture.services import callback_receipts_reprocess, reprocessable_receipts


class Command(BaseCommand):
    help = (
        "Process stored confirmation callbacks again: by default those left unprocessed by an "
        "interruption; with --failed, those that failed (after fixing the cause)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--failed", action="store_true", help="Reprocess failed receipts.")
        parser.add_argument(
            "--id", type=int, action="append", dest="ids", help="Only this receipt id (repeatable)."
        )

    def handle(self, *args, failed=False, ids=None, **options):
        receipts = (
            CallbackReceipt.objects.filter(pk__in=ids)
            if ids
            else reprocessable_receipts(failed=failed)
        )
        results = callback_receipts_reprocess(receipts=receipts)
        if not results:
            self.stdout.write("Nothing to reprocess.")
            return
        summary = ", ".join(f"{count} {status}" for status, count in sorted(results.items()))
        self.stdout.write(f"Reprocessed {sum(results.values())}: {summary}")
