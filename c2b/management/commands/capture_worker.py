from django.conf import settings
from django.core.management.base import BaseCommand

from c2b.services.capture import capture_worker_run
from config.workers import stop_on_signals


class Command(BaseCommand):
    help = (
        "Turn confirmations M-Pesa delivered into payments (with their member match and SMS "
        "receipt), in batches. Run at least one at all times, as many as you like on any hosts: "
        "each confirmation is claimed by one worker. SIGTERM/SIGINT finish the current batch, "
        "then exit."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="Capture everything waiting now, then exit."
        )
        parser.add_argument(
            "--batch",
            type=int,
            default=None,
            help="Confirmations per transaction (default C2B_CAPTURE_BATCH_SIZE).",
        )
        parser.add_argument(
            "--poll",
            type=float,
            default=None,
            help="Seconds to wait when nothing waits (default C2B_CAPTURE_POLL_MS / 1000).",
        )

    def handle(self, *args, once=False, batch=None, poll=None, **options):
        batch = batch or settings.C2B_CAPTURE_BATCH_SIZE
        poll = settings.C2B_CAPTURE_POLL_MS / 1000 if poll is None else poll
        verbose = options["verbosity"] > 1

        def report(batch_report):
            if verbose:
                self.stderr.write(f"capture_worker: {_summary(batch_report)}")

        self.stderr.write(
            f"capture_worker: batches of {batch}, polling every {poll:g} s, busy at most "
            f"{settings.C2B_CAPTURE_BUSY_PERCENT}% of the time"
        )
        with stop_on_signals() as stop:
            total = capture_worker_run(
                limit=batch,
                poll_seconds=poll,
                stop=stop,
                once=once,
                busy_share=settings.C2B_CAPTURE_BUSY_PERCENT / 100,
                on_batch=report,
            )
        self.stderr.write(f"capture_worker: stopped; {_summary(total) or 'nothing captured'}.")


def _summary(report) -> str:
    return ", ".join(f"{n} {status}" for status, n in report.counts().items())
