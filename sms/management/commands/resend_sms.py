from django.core.management.base import BaseCommand, CommandError

from sms.models import OutboundSms
from sms.services import sms_requeue


class Command(BaseCommand):
    help = (
        "Queue SMS receipts again, for example after a provider outage. Choose which with "
        "--failed, --undelivered, --skipped (a member may have a phone now) or --id."
    )

    def add_arguments(self, parser):
        parser.add_argument("--failed", action="store_true", help="Failed messages.")
        parser.add_argument(
            "--undelivered", action="store_true", help="Messages the network did not deliver."
        )
        parser.add_argument(
            "--skipped", action="store_true", help="Skipped messages (no number then)."
        )
        parser.add_argument(
            "--id", type=int, action="append", dest="ids", help="This message id (repeatable)."
        )

    def handle(self, *args, failed=False, undelivered=False, skipped=False, ids=None, **options):
        statuses = [
            status
            for wanted, status in (
                (failed, OutboundSms.Status.FAILED),
                (undelivered, OutboundSms.Status.UNDELIVERED),
                (skipped, OutboundSms.Status.SKIPPED),
            )
            if wanted
        ]
        if not statuses and not ids:
            raise CommandError("Say which: --failed, --undelivered, --skipped and/or --id N.")
        messages = OutboundSms.objects.all()
        if statuses:
            messages = messages.filter(status__in=statuses)
        if ids:
            messages = messages.filter(pk__in=ids)
        count = sms_requeue(messages=messages)
        self.stdout.write(f"{count} SMS queued again; a running sms_worker sends them.")
