from django.conf import settings
from django.core.management.base import BaseCommand

from capture.pacing import Pacing
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
            help="Confirmations per transaction, always (default: from C2B_CAPTURE_BATCH_SIZE, "
            "growing to C2B_CAPTURE_MAX_BATCH_SIZE when capture falls behind).",
        )
        parser.add_argument(
            "--poll",
            type=float,
            default=None,
            help="Seconds to wait when nothing waits (default C2B_CAPTURE_POLL_MS / 1000).",
        )

    def handle(self, *args, once=False, batch=None, poll=None, **options):
        pacing = Pacing(
            busy_share=settings.C2B_CAPTURE_BUSY_PERCENT / 100,
            relaxed_seconds=settings.C2B_CAPTURE_RELAXED_SECONDS,
            catch_up_seconds=settings.C2B_CAPTURE_CATCH_UP_SECONDS,
            batch=batch or settings.C2B_CAPTURE_BATCH_SIZE,
            max_batch=batch or settings.C2B_CAPTURE_MAX_BATCH_SIZE,
        )
        poll = settings.C2B_CAPTURE_POLL_MS / 1000 if poll is None else poll
        verbose = options["verbosity"] > 1
        total = CaptureReport()
        last = {"size": pacing.batch, "waited": 0.0}

        def step() -> Progress:
            size = last["size"]
            report = capture_pending(limit=size)
            total.add(report)
            if verbose and report.total:
                self.stderr.write(
                    f"capture_worker: {_summary(report)} (oldest waited {report.waited:.1f} s)"
                )
            full = report.total >= size
            last["waited"] = report.waited
            last["size"] = pacing.next_batch(size, full=full, waited=report.waited)
            return Progress(done=report.total, more=full)

        def pace(progress: Progress, busy_seconds: float) -> float:
            # Rest while the backlog is young, so a burst of callbacks is answered first; the
            # longer payments have waited, the less (docs/decisions.md #18).
            return pacing.rest(busy_seconds=busy_seconds, waited=last["waited"])

        self.stderr.write(
            f"capture_worker: batches of {pacing.batch} to {pacing.max_batch}, polling every "
            f"{poll:g} s; busy at most {settings.C2B_CAPTURE_BUSY_PERCENT}% of the time while "
            f"the oldest waited under {pacing.relaxed_seconds:g} s, never resting from "
            f"{pacing.catch_up_seconds:g} s"
        )
        with stop_on_signals() as stop:
            run_worker(step, stop=stop, poll_seconds=poll, once=once, pace=pace)
        self.stderr.write(f"capture_worker: stopped; {_summary(total) or 'nothing captured'}.")


def _summary(report: CaptureReport) -> str:
    return ", ".join(f"{n} {status}" for status, n in report.counts().items())
