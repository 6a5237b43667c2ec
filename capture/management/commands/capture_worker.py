from django.conf import settings
from django.core.management.base import BaseCommand

from capture.services import CaptureReport, capture_pending
from core.workers import Progress, run_worker, stop_on_signals


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
        busy_share = settings.C2B_CAPTURE_BUSY_PERCENT / 100
        verbose = options["verbosity"] > 1
        total = CaptureReport()

        def step() -> Progress:
            report = capture_pending(limit=batch)
            total.add(report)
            if verbose and report.total:
                self.stderr.write(f"capture_worker: {_summary(report)}")
            return Progress(done=report.total, more=report.total >= batch)

        def pace(progress: Progress, busy_seconds: float) -> float:
            # Rest so that capturing takes at most busy_share of the time: a burst of callbacks
            # is answered first (docs/decisions.md #11).
            return busy_seconds * (1 / busy_share - 1)

        self.stderr.write(
            f"capture_worker: batches of {batch}, polling every {poll:g} s, busy at most "
            f"{settings.C2B_CAPTURE_BUSY_PERCENT}% of the time"
        )
        with stop_on_signals() as stop:
            run_worker(step, stop=stop, poll_seconds=poll, once=once, pace=pace)
        self.stderr.write(f"capture_worker: stopped; {_summary(total) or 'nothing captured'}.")


def _summary(report: CaptureReport) -> str:
    return ", ".join(f"{n} {status}" for status, n in report.counts().items())
