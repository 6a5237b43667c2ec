"""sms_worker: sends due receipts, retries with backoff, never sends one twice, stops gracefully."""

import io
import logging
import os
import signal
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from sms.backends import SendResult, SmsBackend, SmsSendError
from sms.backends.console import ConsoleBackend
from sms.backends.memory import MemoryBackend
from sms.models import OutboundSms
from sms.services import retry_delay, sms_claim_next, sms_send_claimed, sms_send_due

pytestmark = pytest.mark.django_db

Status = OutboundSms.Status


def drain(backend=None) -> int:
    return sms_send_due(backend=backend or MemoryBackend(), worker="test:1")


def test_worker_sends_due_messages_and_records_the_provider_id(queued_sms, memory_backend):
    [sms] = queued_sms()
    assert drain() == 1

    sms.refresh_from_db()
    assert sms.status == Status.SENT
    assert sms.attempts == 1
    assert sms.backend == "memory"
    assert sms.provider_message_id == memory_backend.outbox[0].provider_message_id
    assert sms.sent_at is not None
    assert memory_backend.outbox[0].to == "254712345678"
    assert memory_backend.outbox[0].text == sms.text


def test_skipped_and_sent_messages_are_never_sent(queued_sms, memory_backend):
    [sms] = queued_sms(msisdn="2547 ***** 126")
    assert sms.status == Status.SKIPPED
    drain()
    drain()
    assert memory_backend.outbox == []


def test_each_message_is_sent_once_however_often_workers_run(queued_sms, memory_backend):
    queued_sms(3)
    assert drain() == 3
    assert drain() == 0
    assert len(memory_backend.outbox) == 3


def test_temporary_failure_is_retried_later_with_exponential_backoff(
    queued_sms, memory_backend, settings
):
    settings.SMS_RETRY_BASE_SECONDS = 30
    [sms] = queued_sms()
    memory_backend.failures.append(SmsSendError("gateway busy", permanent=False))
    before = timezone.now()
    drain()

    sms.refresh_from_db()
    assert sms.status == Status.QUEUED
    assert sms.reason == "Attempt 1 failed, retrying: gateway busy"
    assert before + timedelta(seconds=29) < sms.next_attempt_at
    assert sms.next_attempt_at < timezone.now() + timedelta(seconds=31)
    assert drain() == 0  # not due yet

    OutboundSms.objects.update(next_attempt_at=timezone.now())
    drain()
    sms.refresh_from_db()
    assert sms.status == Status.SENT
    assert sms.attempts == 2
    assert sms.reason == ""


def test_backoff_doubles_and_is_capped(settings):
    settings.SMS_RETRY_BASE_SECONDS, settings.SMS_RETRY_MAX_SECONDS = 30, 3600
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 8, 20)] == [
        30,
        60,
        120,
        3600,
        3600,
    ]


def test_permanent_failure_is_final_with_the_reason(queued_sms, memory_backend):
    [sms] = queued_sms()
    memory_backend.failures.append(SmsSendError("invalid phone number", permanent=True))
    drain()
    sms.refresh_from_db()
    assert (sms.status, sms.reason, sms.next_attempt_at) == (
        Status.FAILED,
        "invalid phone number",
        None,
    )


def test_worker_gives_up_after_the_last_attempt(queued_sms, memory_backend, settings):
    settings.SMS_MAX_ATTEMPTS = 2
    [sms] = queued_sms()
    memory_backend.failures.extend(SmsSendError("down", permanent=False) for _ in range(2))
    drain()
    OutboundSms.objects.update(next_attempt_at=timezone.now())
    drain()
    sms.refresh_from_db()
    assert sms.status == Status.FAILED
    assert sms.reason == "Gave up after 2 attempts. Last: down"


def test_ambiguous_failure_is_not_retried_automatically(queued_sms, memory_backend):
    [sms] = queued_sms()
    memory_backend.failures.append(SmsSendError("no answer", permanent=True, ambiguous=True))
    drain()
    sms.refresh_from_db()
    assert sms.status == Status.FAILED


class CrashingBackend(SmsBackend):
    name = "crashing"

    def send(self, *, to, text):
        raise KeyError("bug")


def test_backend_crash_is_recorded_as_failed_and_the_worker_goes_on(queued_sms):
    queued_sms(2)
    assert drain(CrashingBackend()) == 2
    assert set(OutboundSms.objects.values_list("status", flat=True)) == {Status.FAILED}
    assert "crashing backend crashed (KeyError)" in OutboundSms.objects.first().reason


def test_a_crashed_workers_expired_lease_is_taken_over(queued_sms, memory_backend):
    [sms] = queued_sms()
    claimed = sms_claim_next(worker="dead:1")
    assert claimed.status == Status.SENDING
    assert claimed.claimed_by == "dead:1"
    assert drain() == 0  # the lease is still live

    OutboundSms.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert drain() == 1
    sms.refresh_from_db()
    assert sms.status == Status.SENT
    assert sms.claimed_by == "test:1"
    assert sms.attempts == 2
    assert len(memory_backend.outbox) == 1


def test_claim_takes_the_oldest_due_message_first(queued_sms):
    first, second = queued_sms(2)
    OutboundSms.objects.filter(pk=second.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=5)
    )
    assert sms_claim_next(worker="w").pk == second.pk
    assert sms_claim_next(worker="w").pk == first.pk
    assert sms_claim_next(worker="w") is None


def test_sms_worker_once_drains_and_exits(queued_sms, memory_backend):
    queued_sms(2)
    err = io.StringIO()
    call_command("sms_worker", "--once", stdout=io.StringIO(), stderr=err)
    assert len(memory_backend.outbox) == 2
    assert "stopped after 2 message(s)" in err.getvalue()


def test_console_backend_writes_each_message_with_its_recipient_to_stdout(queued_sms, settings):
    settings.SMS_BACKEND = "console"
    [sms] = queued_sms()
    out = io.StringIO()
    call_command("sms_worker", "--once", stdout=out, stderr=io.StringIO())
    assert "SMS to +254712345678" in out.getvalue()
    assert sms.text in out.getvalue()
    sms.refresh_from_db()
    assert (sms.status, sms.backend) == (Status.SENT, "console")


def test_console_backend_returns_an_id_for_each_message():
    stream = io.StringIO()
    first = ConsoleBackend(stdout=stream).send(to="254712345678", text="a")
    second = ConsoleBackend(stdout=stream).send(to="254712345678", text="b")
    assert first.provider_message_id != second.provider_message_id


class StopDuringSend(SmsBackend):
    """Plays SIGTERM arriving while a message is with the provider."""

    name = "stopper"

    def __init__(self, signum):
        self.signum = signum
        self.sent: list[str] = []

    def send(self, *, to, text):
        os.kill(os.getpid(), self.signum)
        self.sent.append(text)
        return SendResult(provider_message_id=f"id-{len(self.sent)}")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_finishes_the_current_message_then_exits(queued_sms, monkeypatch, signum):
    queued_sms(2)
    backend = StopDuringSend(signum)
    monkeypatch.setattr("sms.management.commands.sms_worker.get_backend", lambda **options: backend)
    previous = signal.getsignal(signum)

    call_command("sms_worker", "--poll", "60", stdout=io.StringIO(), stderr=io.StringIO())

    assert len(backend.sent) == 1
    statuses = dict(OutboundSms.objects.values_list("pk", "status"))
    assert sorted(statuses.values()) == [Status.QUEUED, Status.SENT]
    assert signal.getsignal(signum) == previous


def test_logs_never_show_a_full_phone_number(queued_sms, memory_backend, caplog):
    queued_sms(2)
    memory_backend.failures.append(SmsSendError("down", permanent=False))
    with caplog.at_level(logging.DEBUG):
        drain()
    assert "2547*****678" in caplog.text
    assert "254712345678" not in caplog.text


def test_send_claimed_records_the_result_on_the_row(queued_sms):
    queued_sms()
    sms = sms_claim_next(worker="w")
    sent = sms_send_claimed(sms=sms, backend=MemoryBackend())
    assert sent.lease_expires_at is None
    assert OutboundSms.objects.get().status == Status.SENT
