"""Receiving C2B callbacks: store raw first, then parse, then record exactly once.

The caller (the callback view) is not atomic: the raw ``CallbackReceipt`` is committed on its own
before any parsing, so whatever happens afterwards (bad payload, a bug, a rollback) the request
that arrived is still in the database and can be reprocessed once the cause is fixed.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from c2b.models import CallbackReceipt, Payment, Shortcode, ValidationDecision
from c2b.payloads import COMPARED_FIELDS, C2BPayload, PayloadError, extract_trans_id, parse_c2b_body
from c2b.services.validation_rules import Rejection, validation_check
from members.services import payment_member_match
from sms.services import sms_receipt_enqueue

logger = logging.getLogger(__name__)

ACCEPTED = {"ResultCode": 0, "ResultDesc": "Accepted"}
VALIDATION_ACCEPTED = {"ResultCode": "0", "ResultDesc": "Accepted"}


@dataclass(frozen=True)
class CallbackOutcome:
    """What to answer M-Pesa: an HTTP status and a JSON body."""

    http_status: int
    body: dict[str, Any]


def callback_receipt_store(
    *, kind: str, body: bytes, headers: dict[str, str], source_ip: str | None
) -> CallbackReceipt:
    """Commit the request as received. Raises ``DatabaseError`` when the database is down."""
    return CallbackReceipt.objects.create(
        kind=kind,
        body=body,
        headers=headers,
        source_ip=source_ip,
        trans_id=extract_trans_id(body),
    )


def callback_receipt_process(*, receipt: CallbackReceipt) -> CallbackOutcome:
    """Process a stored receipt, the first time or again.

    Database outages propagate as ``DatabaseError``; any other unexpected error is written on the
    receipt, which stays available for reprocessing.
    """
    receipt.attempts += 1
    try:
        if receipt.kind == CallbackReceipt.Kind.CONFIRMATION:
            return _confirmation_process(receipt)
        return _validation_process(receipt)
    except DatabaseError as exc:
        if isinstance(exc, IntegrityError):
            _receipt_fail(receipt, "Database integrity error while processing.", tb=True)
            return CallbackOutcome(500, {"ResultCode": 1, "ResultDesc": "Internal error"})
        raise
    except Exception:
        logger.exception("Bug while processing callback receipt %s", receipt.pk)
        _receipt_fail(receipt, "Unexpected error while processing (see traceback).", tb=True)
        return CallbackOutcome(
            500, {"ResultCode": 1, "ResultDesc": "Internal error; the request was kept."}
        )


# --- confirmation ----------------------------------------------------------------------------


def _confirmation_process(receipt: CallbackReceipt) -> CallbackOutcome:
    try:
        payload = parse_c2b_body(bytes(receipt.body), require_time=True)
    except PayloadError as exc:
        return _bad_request(receipt, exc.reason, trans_id=exc.trans_id)

    shortcode = Shortcode.objects.filter(number=payload.business_short_code).first()
    if shortcode is None:
        return _bad_request(
            receipt,
            f"Unknown shortcode {payload.business_short_code}: add it (admin or "
            "'manage.py shortcode add') and reprocess this callback.",
            trans_id=payload.trans_id,
        )

    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                shortcode=shortcode, validation=_validation_for(payload), **_payment_fields(payload)
            )
            # Same transaction: a rolled-back payment leaves no match and no SMS behind.
            match = payment_member_match(payment=payment)
            sms_receipt_enqueue(payment=payment, member=match.member)
            _receipt_done(receipt, CallbackReceipt.Status.PROCESSED, payment=payment)
    except IntegrityError:
        existing = Payment.objects.filter(trans_id=payload.trans_id).first()
        if existing is None:
            raise
        _redelivery_record(receipt, existing, payload)
        return CallbackOutcome(200, ACCEPTED)

    logger.info("Payment %s stored (receipt %s)", payment.trans_id, receipt.pk)
    return CallbackOutcome(200, ACCEPTED)


def _payment_fields(payload: C2BPayload) -> dict[str, Any]:
    return {
        "trans_id": payload.trans_id,
        "transaction_type": payload.transaction_type,
        "trans_time": payload.trans_time,
        "amount": payload.amount,
        "business_short_code": payload.business_short_code,
        "bill_ref_number": payload.bill_ref_number,
        "invoice_number": payload.invoice_number,
        "org_account_balance": payload.org_account_balance,
        "third_party_trans_id": payload.third_party_trans_id,
        "msisdn": payload.msisdn,
        "first_name": payload.first_name,
        "middle_name": payload.middle_name,
        "last_name": payload.last_name,
        "extra": payload.extra,
    }


def _validation_for(payload: C2BPayload) -> ValidationDecision | None:
    return (
        ValidationDecision.objects.filter(trans_id=payload.trans_id)
        .order_by("-accepted", "-decided_at", "-id")
        .first()
    )


def _redelivery_record(receipt: CallbackReceipt, existing: Payment, payload: C2BPayload) -> None:
    differences = [
        f"{name} (stored {stored!s}, received {received!s})"
        for name, stored, received in _differences(existing, payload)
    ]
    if differences:
        logger.warning("Conflicting redelivery of %s (receipt %s)", existing.trans_id, receipt.pk)
        _receipt_done(
            receipt,
            CallbackReceipt.Status.CONFLICT,
            payment=existing,
            error="Redelivery differs from the stored payment in: " + "; ".join(differences),
        )
    else:
        _receipt_done(receipt, CallbackReceipt.Status.DUPLICATE, payment=existing)


def _differences(existing: Payment, payload: C2BPayload) -> list[tuple[str, Any, Any]]:
    pairs = (
        (name, getattr(existing, attr), getattr(payload, attr))
        for name, attr in COMPARED_FIELDS.items()
    )
    return [(name, stored, received) for name, stored, received in pairs if stored != received]


# --- validation ------------------------------------------------------------------------------


def _validation_process(receipt: CallbackReceipt) -> CallbackOutcome:
    try:
        payload = parse_c2b_body(bytes(receipt.body), require_time=False)
    except PayloadError as exc:
        rejection = Rejection("C2B00016", f"Unreadable validation request: {exc.reason}")
        with transaction.atomic():
            ValidationDecision.objects.create(
                receipt=receipt,
                trans_id=exc.trans_id,
                accepted=False,
                result_code=rejection.code,
                reason=rejection.reason,
            )
            _receipt_done(
                receipt,
                CallbackReceipt.Status.FAILED,
                error=rejection.reason,
                trans_id=exc.trans_id,
            )
        return CallbackOutcome(200, {"ResultCode": rejection.code, "ResultDesc": "Rejected"})

    shortcode = Shortcode.objects.filter(number=payload.business_short_code).first()
    rejection = validation_check(shortcode=shortcode, payload=payload)
    with transaction.atomic():
        ValidationDecision.objects.create(
            receipt=receipt,
            trans_id=payload.trans_id,
            shortcode=shortcode,
            business_short_code=payload.business_short_code,
            amount=payload.amount,
            bill_ref_number=payload.bill_ref_number,
            accepted=rejection is None,
            result_code=rejection.code if rejection else "0",
            reason=rejection.reason if rejection else "All rules passed.",
        )
        _receipt_done(receipt, CallbackReceipt.Status.PROCESSED)
    if rejection:
        logger.info("Validation of %s rejected: %s", payload.trans_id, rejection.code)
        return CallbackOutcome(200, {"ResultCode": rejection.code, "ResultDesc": "Rejected"})
    return CallbackOutcome(200, VALIDATION_ACCEPTED)


# --- receipt bookkeeping ---------------------------------------------------------------------


def _bad_request(receipt: CallbackReceipt, reason: str, *, trans_id: str = "") -> CallbackOutcome:
    _receipt_done(receipt, CallbackReceipt.Status.FAILED, error=reason, trans_id=trans_id)
    logger.warning("Callback receipt %s needs attention: %s", receipt.pk, reason)
    return CallbackOutcome(400, {"ResultCode": 1, "ResultDesc": f"Rejected: {reason}"})


def _receipt_done(
    receipt: CallbackReceipt,
    status: str,
    *,
    payment: Payment | None = None,
    error: str = "",
    trans_id: str = "",
) -> None:
    receipt.status = status
    receipt.payment = payment
    receipt.error = error
    receipt.traceback = ""
    receipt.processed_at = timezone.now()
    if trans_id:
        receipt.trans_id = trans_id
    receipt.save(
        update_fields=[
            "status",
            "payment",
            "error",
            "traceback",
            "processed_at",
            "attempts",
            "trans_id",
        ]
    )


def _receipt_fail(receipt: CallbackReceipt, reason: str, *, tb: bool) -> None:
    receipt.status = CallbackReceipt.Status.FAILED
    receipt.error = reason
    receipt.traceback = traceback.format_exc() if tb else ""
    receipt.processed_at = timezone.now()
    receipt.save(update_fields=["status", "error", "traceback", "processed_at", "attempts"])
