from django.conf import settings
from django.core.management.base import BaseCommand

from core.workers import Progress, run_worker, stop_on_signals
from sms.backends import get_backend
from sms.services import sms_send_due, worker_name


class Command(BaseCommand):
    help = (
        "Send due SMS receipts through the configured backend (SMS_BACKEND), retrying temporary "
        "failures with backoff. Run as many as you like, on any hosts: each message is claimed "
        "by one worker. SIGTERM/SIGINT finish the current message, then exit."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="Send everything due now, then exit."
        )
        parser.add_argument(
            "--poll",
            type=float,
            default=None,
            help="Seconds to wait when nothing is due (default SMS_WORKER_POLL_SECONDS).",
        )

    def handle(self, *args, once=False, poll=None, **options):
        backend = get_backend(stdout=self.stdout)
        poll = settings.SMS_WORKER_POLL_SECONDS if poll is None else poll
        name = worker_name()
        self.stderr.write(f"sms_worker {name}: backend {backend.name}")
        total = 0
        with stop_on_signals() as stop:

            def step() -> Progress:
                nonlocal total
                sent = sms_send_due(backend=backend, worker=name, should_stop=stop.is_set)
                total += sent
                return Progress(done=sent)

            run_worker(step, stop=stop, poll_seconds=poll, once=once)
        self.stderr.write(f"sms_worker {name}: stopped after {total} message(s).")
