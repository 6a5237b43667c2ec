"""Writes for SMS receipts: enqueue on capture, claim and send in workers, record reports.

Capture only writes rows (``sms_receipts_enqueue``, in the payments' transaction); sending
happens later in ``sms_worker`` processes, so a slow or dead provider never touches capture.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from c2b.models import Payment
from core.phones import (
    is_sha256,
    masked_fits,
    masked_parts,
    phone_hash,
    phone_mask,
    phone_normalise,
)
from members.models import Member
from sms.backends import DeliveryEvent, DeliveryState, SmsBackend, SmsSendError
from sms.models import DeliveryReport, OutboundSms
from sms.text import ReceiptFacts, receipt_text

logger = logging.getLogger(__name__)

Status = OutboundSms.Status
Source = OutboundSms.RecipientSource


# --- enqueue (on the capture path) ----------------------------------------------------------


def sms_receipts_enqueue(
    *, items: list[tuple[Payment, Member | None]], skip_reason: str = ""
) -> list[OutboundSms]:
    """Write each payment's receipt SMS in the caller's transaction, in one insert: queued, or
    skipped with the reason (``skip_reason`` skips them all, e.g. receipts turned off). Raises
    ``IntegrityError`` if a payment already has one (never two per payment)."""
    now = timezone.now()
    return OutboundSms.objects.bulk_create(
        [_receipt_sms(payment, member, now, skip_reason) for payment, member in items]
    )


def _receipt_sms(payment: Payment, member: Member | None, now, skip_reason: str) -> OutboundSms:
    recipient, source, no_recipient = _recipient(payment, member)
    skip_reason = skip_reason or no_recipient
    sms = OutboundSms(
        payment=payment,
        member=member,
        recipient=recipient,
        recipient_source=source,
        status=Status.SKIPPED if skip_reason else Status.QUEUED,
        reason=skip_reason,
        next_attempt_at=None if skip_reason else now,
    )
    try:
        sms.text = receipt_text(_facts(payment, member))
    except Exception as exc:  # a broken override must not lose the payment it describes
        logger.exception("SMS template failed for payment %s", payment.trans_id)
        sms.text, sms.status, sms.next_attempt_at = "", Status.FAILED, None
        sms.reason = (
            f"The SMS template could not be rendered ({type(exc).__name__}: {exc}); "
            "fix it, then resend_sms --failed."
        )
    return sms


def _facts(payment: Payment, member: Member | None) -> ReceiptFacts:
    return ReceiptFacts(
        name=(member.name if member else payment.first_name) or "",
        amount=payment.amount,
        account=member.number if member else payment.bill_ref_number,
        receipt=payment.trans_id,
        time=payment.trans_time,
    )


def _recipient(payment: Payment, member: Member | None) -> tuple[str, str, str]:
    """(number, source, reason it was skipped): the payer's real number first, else the member's
    phone (the one the hashed or masked MSISDN points at, else the main one)."""
    full = phone_normalise(payment.msisdn)
    if full:
        return full, Source.MSISDN, ""
    if not payment.msisdn.strip():
        # An organisation paying in (an employer's check-off, another business) has no phone:
        # the receipt is for whoever paid, so nobody is sent one. Not a fault.
        payer = "An organisation" if "organi" in payment.transaction_type.lower() else "The payer"
        return "", Source.NONE, f"{payer} paid without a phone number: no SMS receipt to send."
    if member is None:
        kind = "hashed" if is_sha256(payment.msisdn) else "masked or missing"
        return "", Source.NONE, f"M-Pesa sent a {kind} payer number and no member matched."
    phones = [phone.number for phone in member.phones.all()]  # prefetched by matching
    if not phones:
        return "", Source.NONE, f"Member {member.number} has no phone number on record."
    if is_sha256(payment.msisdn):
        wanted = payment.msisdn.lower()
        phones.sort(key=lambda n: phone_hash(n) != wanted)
    elif masked_parts(payment.msisdn):
        phones.sort(key=lambda n: not masked_fits(payment.msisdn, n))
    return phones[0], Source.MEMBER, ""


# --- workers ----------------------------------------------------------------------------------


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _due(now) -> Q:
    return Q(status=Status.QUEUED, next_attempt_at__lte=now) | Q(
        status=Status.SENDING, lease_expires_at__lt=now
    )


def sms_claim_next(*, worker: str) -> OutboundSms | None:
    """Claim the next due message for ``worker``: queued and due, or 'sending' under a lease that
    expired (its worker died). ``None`` when nothing is due.

    PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED`` so concurrent workers each take a different
    row without waiting. SQLite has no row locks, but its transactions here begin IMMEDIATE (one
    writer at a time), so the plain select-then-update cannot interleave. The conditional update
    is a compare-and-set on both.
    """
    now = timezone.now()
    with transaction.atomic():
        candidates = OutboundSms.objects.filter(_due(now)).order_by("next_attempt_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        candidate = candidates.only("id", "status", "claimed_by").first()
        if candidate is None:
            return None
        claimed = OutboundSms.objects.filter(_due(now), pk=candidate.pk).update(
            status=Status.SENDING,
            lease_expires_at=now + timedelta(seconds=settings.SMS_LEASE_SECONDS),
            claimed_by=worker[:100],
            attempts=F("attempts") + 1,
            updated_at=now,
        )
    if not claimed:
        return None
    if candidate.status == Status.SENDING:
        logger.warning(
            "SMS %s taken over from worker %s whose lease expired",
            candidate.pk,
            candidate.claimed_by,
        )
    return OutboundSms.objects.get(pk=candidate.pk)


def sms_send_claimed(*, sms: OutboundSms, backend: SmsBackend) -> OutboundSms:
    """Send one claimed message and record the outcome (sent, retry later, or failed)."""
    try:
        result = backend.send(to=sms.recipient, text=sms.text)
    except SmsSendError as exc:
        return _record_failure(sms, exc)
    except Exception as exc:
        logger.exception("SMS backend %s crashed on message %s", backend.name, sms.pk)
        return _record_failure(
            sms,
            SmsSendError(
                f"The {backend.name} backend crashed ({type(exc).__name__}); it may have "
                "been sent, so it is not retried automatically.",
                permanent=True,
                ambiguous=True,
            ),
        )
    now = timezone.now()
    sms.status = Status.SENT
    sms.reason = ""
    sms.backend = backend.name
    sms.provider_message_id = result.provider_message_id[:100]
    sms.provider_status = result.provider_status[:50]
    sms.cost = result.cost[:30]
    sms.sent_at = now
    sms.lease_expires_at = None
    sms.next_attempt_at = None
    sms.save(
        update_fields=[
            "status",
            "reason",
            "backend",
            "provider_message_id",
            "provider_status",
            "cost",
            "sent_at",
            "lease_expires_at",
            "next_attempt_at",
            "updated_at",
        ]
    )
    logger.info("SMS %s sent to %s via %s", sms.pk, phone_mask(sms.recipient), backend.name)
    return sms


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: base, 2 x base, 4 x base, ... capped."""
    seconds = settings.SMS_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, settings.SMS_RETRY_MAX_SECONDS))


def _record_failure(sms: OutboundSms, exc: SmsSendError) -> OutboundSms:
    now = timezone.now()
    sms.lease_expires_at = None
    if exc.permanent:
        sms.status, sms.next_attempt_at = Status.FAILED, None
        sms.reason = exc.reason
    elif sms.attempts >= settings.SMS_MAX_ATTEMPTS:
        sms.status, sms.next_attempt_at = Status.FAILED, None
        sms.reason = f"Gave up after {sms.attempts} attempts. Last: {exc.reason}"
    else:
        sms.status = Status.QUEUED
        sms.next_attempt_at = now + retry_delay(sms.attempts)
        sms.reason = f"Attempt {sms.attempts} failed, retrying: {exc.reason}"
    sms.save(
        update_fields=["status", "reason", "next_attempt_at", "lease_expires_at", "updated_at"]
    )
    logger.warning("SMS %s to %s %s: %s", sms.pk, phone_mask(sms.recipient), sms.status, exc.reason)
    return sms


def sms_send_due(
    *, backend: SmsBackend, worker: str, should_stop: Callable[[], bool] = lambda: False
) -> int:
    """Send due messages one at a time until none is due or ``should_stop()``; returns how many
    were attempted. Stopping is checked between messages, so the current one always finishes."""
    attempted = 0
    while not should_stop():
        sms = sms_claim_next(worker=worker)
        if sms is None:
            break
        sms_send_claimed(sms=sms, backend=backend)
        attempted += 1
    return attempted


# --- staff actions ----------------------------------------------------------------------------


def sms_requeue(*, messages: QuerySet[OutboundSms]) -> int:
    """Queue failed or undelivered messages again (after an outage), with a fresh retry budget.

    Skipped ones are looked at again too: a member may have gained a phone since."""
    count = 0
    now = timezone.now()
    for sms in messages.select_related("payment", "member").filter(
        status__in=OutboundSms.RESENDABLE
    ):
        if sms.status == Status.SKIPPED or not sms.recipient:
            recipient, source, skip_reason = _recipient(sms.payment, sms.member)
            if skip_reason:
                sms.reason = skip_reason
                sms.save(update_fields=["reason", "updated_at"])
                continue
            sms.recipient, sms.recipient_source = recipient, source
        if not sms.text:
            sms.text = receipt_text(_facts(sms.payment, sms.member))
        previous = sms.reason
        sms.status = Status.QUEUED
        sms.attempts = 0
        sms.next_attempt_at = now
        sms.reason = f"Resent by staff; before: {previous}" if previous else "Resent by staff."
        sms.save()
        count += 1
    return count


class SmsResendRefused(Exception):
    """The SMS cannot be sent again; the message says why, for the person who asked."""


def sms_resend(*, sms_id: int) -> OutboundSms:
    """Queue one failed, undelivered or skipped SMS again (``sms_requeue``), or say why not."""
    message = OutboundSms.objects.filter(pk=sms_id).first()
    if message is None:
        raise SmsResendRefused(f"There is no SMS #{sms_id}.")
    if not message.can_resend:
        raise SmsResendRefused(
            f"SMS #{sms_id} is {message.get_status_display().lower()}; only failed, undelivered "
            "or skipped messages are sent again."
        )
    if sms_requeue(messages=OutboundSms.objects.filter(pk=sms_id)) == 0:
        message.refresh_from_db()
        raise SmsResendRefused(f"SMS #{sms_id} was not queued again: {message.reason}")
    message.refresh_from_db()
    return message


# --- delivery reports -------------------------------------------------------------------------


def sms_delivery_event_record(*, event: DeliveryEvent) -> DeliveryReport:
    """Store a provider's delivery report (phone masked) and apply it to the message it names,
    if any: a final report moves a sent message to delivered or undelivered."""
    phone = phone_normalise(event.phone) or event.phone
    body = dict(event.raw)
    if event.phone:
        body["phoneNumber"] = phone_mask(phone)
    with transaction.atomic():
        sms = (
            OutboundSms.objects.select_for_update()
            .filter(provider_message_id=event.provider_message_id)
            .first()
        )
        report = DeliveryReport.objects.create(
            sms=sms,
            provider_message_id=event.provider_message_id,
            status=event.provider_status,
            failure_reason=event.reason,
            network_code=event.network_code,
            phone_masked=phone_mask(phone)[:20],
            body=body,
        )
        if sms is None:
            logger.warning("Delivery report for unknown message id %r", event.provider_message_id)
            return report
        sms.provider_status = event.provider_status
        final = _FINAL.get(event.state)
        if final and sms.status in (Status.SENT, Status.UNDELIVERED, Status.DELIVERED):
            sms.status = final
            if final == Status.DELIVERED:
                sms.delivered_at = timezone.now()
                sms.reason = ""
            else:
                sms.reason = f"Not delivered: {event.provider_status} {event.reason}".strip()
        sms.save(
            update_fields=["provider_status", "status", "delivered_at", "reason", "updated_at"]
        )
    return report


_FINAL = {DeliveryState.DELIVERED: Status.DELIVERED, DeliveryState.UNDELIVERED: Status.UNDELIVERED}
