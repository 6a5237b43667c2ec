"""The capture worker's step: received confirmations become payments, exactly once, in batches.

The callback view has already committed each confirmation raw and answered M-Pesa. Here a worker
claims a batch of them (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so any number of
workers on any hosts each take different receipts), and in one transaction writes the payments,
their member matches and their SMS receipts, and marks every receipt processed, duplicate,
conflict or failed. The statements per batch are a fixed handful whatever its size, which is
what lets capture keep up with M-Pesa at peak (docs/decisions.md #11).

Exactly once is the database's job: ``Payment.trans_id`` is unique. Looking up stored payments
first only saves work; two workers racing on the same TransID meet at the constraint, and the
loser records its receipt as a redelivery. A receipt whose capture raises (a bug, a value the
database refuses) is marked failed with the traceback without holding up the rest of its batch,
and ``reprocess_callbacks --failed`` runs it again after the fix.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils import timezone

from c2b.models import CallbackReceipt, Payment, Shortcode, ValidationDecision
from c2b.payloads import COMPARED_FIELDS, C2BPayload, PayloadError, parse_c2b_body
from c2b.selectors import capture_queue
from c2b.services.callbacks import unknown_shortcode_reason
from members.services import payments_member_match
from sms.services import sms_receipts_enqueue

logger = logging.getLogger(__name__)

Status = CallbackReceipt.Status
# The database is unreachable or busy: stop, nothing is written, the worker retries later.
# Anything else that goes wrong is about the receipts at hand.
_OUTAGE = (OperationalError, InterfaceError)


@dataclass
class CaptureReport:
    """How many receipts of a batch ended in each state."""

    processed: int = 0
    duplicate: int = 0
    conflict: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.processed + self.duplicate + self.conflict + self.failed

    def counts(self) -> dict[str, int]:
        """The non-zero counts by receipt status."""
        return {status: n for status, n in vars(self).items() if n}

    def add(self, other: CaptureReport) -> None:
        self.processed += other.processed
        self.duplicate += other.duplicate
        self.conflict += other.conflict
        self.failed += other.failed


def capture_pending(*, limit: int) -> CaptureReport:
    """Claim up to ``limit`` waiting confirmations and capture them in one transaction.

    Returns an empty report when nothing waits (or every waiting one is claimed by another
    worker). Database outages propagate as ``DatabaseError`` with nothing half-written.
    """
    with transaction.atomic():
        return _capture_claimed(list(_claimed(capture_queue())[:limit]))


def capture_receipts(*, receipts: QuerySet[CallbackReceipt]) -> CaptureReport:
    """Capture the given confirmations again, whatever their status (reprocessing after a fix).

    Receipts a worker is capturing right now are skipped; validation receipts are ignored."""
    with transaction.atomic():
        chosen = receipts.filter(kind=CallbackReceipt.Kind.CONFIRMATION).order_by("id")
        return _capture_claimed(list(_claimed(chosen)))


def _claimed(receipts: QuerySet[CallbackReceipt]) -> QuerySet[CallbackReceipt]:
    # SQLite has no row locks, but its transactions here begin IMMEDIATE (one writer at a time),
    # so two workers cannot claim the same receipts there either.
    if connection.features.has_select_for_update_skip_locked:
        return receipts.select_for_update(skip_locked=True, of=("self",))
    return receipts


def _capture_claimed(receipts: list[CallbackReceipt]) -> CaptureReport:
    if not receipts:
        return CaptureReport()
    try:
        with transaction.atomic():
            return _capture(receipts)
    except _OUTAGE:
        raise
    except Exception:
        logger.warning("Capturing %s receipts together failed; one by one now", len(receipts))
        return _capture_one_by_one(receipts)


def _capture_one_by_one(receipts: list[CallbackReceipt]) -> CaptureReport:
    """After a batch failed: each receipt on its own, so one bad receipt fails alone."""
    report = CaptureReport()
    for receipt in receipts:
        receipt.refresh_from_db(fields=CallbackReceipt.OUTCOME_FIELDS)
        try:
            with transaction.atomic():
                report.add(_capture([receipt]))
        except _OUTAGE:
            raise
        except Exception:
            logger.exception("Bug while capturing callback receipt %s", receipt.pk)
            _fail_with_traceback(receipt, "Unexpected error while capturing (see traceback).")
            report.failed += 1
    return report


def _fail_with_traceback(receipt: CallbackReceipt, reason: str) -> None:
    receipt.mark(Status.FAILED, error=reason, traceback=traceback.format_exc())
    receipt.save(update_fields=CallbackReceipt.OUTCOME_FIELDS)


def capture_worker_run(
    *,
    limit: int,
    poll_seconds: float,
    stop: threading.Event,
    once: bool = False,
    busy_share: float = 1.0,
    on_batch: Callable[[CaptureReport], None] | None = None,
) -> CaptureReport:
    """Capture batch after batch until ``stop`` is set (``once``: until nothing waits).

    After a batch the worker rests so that capturing takes at most ``busy_share`` of its time
    (a batch that took 0.2 s at 0.5 is followed by 0.2 s of rest); then a full batch is followed
    by the next, and otherwise it waits ``poll_seconds``. While the database is unreachable it
    waits longer each time (up to 30 s) and tries again; nothing is lost meanwhile, the receipts
    wait in the database."""
    total = CaptureReport()
    outages = 0
    while not stop.is_set():
        began = time.monotonic()
        try:
            report = capture_pending(limit=limit)
        except _OUTAGE as exc:
            if once:
                raise
            outages += 1
            delay = min(poll_seconds * 2**outages, 30.0)
            logger.warning("Database unavailable (%s); capture retries in %.1f s", exc, delay)
            connection.close()
            stop.wait(delay)
            continue
        outages = 0
        total.add(report)
        if report.total and on_batch:
            on_batch(report)
        if report.total and busy_share < 1 and not once:
            stop.wait((time.monotonic() - began) * (1 / busy_share - 1))
        if report.total < limit:
            if once:
                break
            stop.wait(poll_seconds)
    return total


# --- one batch --------------------------------------------------------------------------------


def _capture(receipts: list[CallbackReceipt]) -> CaptureReport:
    report = CaptureReport()
    readable: list[tuple[CallbackReceipt, C2BPayload]] = []
    for receipt in receipts:
        receipt.attempts += 1
        try:
            readable.append((receipt, parse_c2b_body(bytes(receipt.body), require_time=True)))
        except PayloadError as exc:
            receipt.mark(Status.FAILED, error=exc.reason, trans_id=exc.trans_id)

    trans_ids = {payload.trans_id for _, payload in readable}
    shortcodes = Shortcode.objects.in_bulk(
        {payload.business_short_code for _, payload in readable}, field_name="number"
    )
    stored = Payment.objects.in_bulk(trans_ids, field_name="trans_id")
    validations = _validations_for(trans_ids - set(stored))

    new: dict[str, tuple[CallbackReceipt, C2BPayload, Payment]] = {}
    redeliveries: list[tuple[CallbackReceipt, C2BPayload]] = []
    for receipt, payload in readable:
        shortcode = shortcodes.get(payload.business_short_code)
        if shortcode is None:
            reason = unknown_shortcode_reason(payload.business_short_code)
            receipt.mark(Status.FAILED, error=reason, trans_id=payload.trans_id)
        elif payload.trans_id in stored or payload.trans_id in new:
            redeliveries.append((receipt, payload))
        else:
            payment = Payment(
                shortcode=shortcode,
                validation=validations.get(payload.trans_id),
                **payment_fields(payload),
            )
            new[payload.trans_id] = (receipt, payload, payment)

    for trans_id, winner in _payments_insert([payment for *_, payment in new.values()]).items():
        # Another worker stored this TransID first: ours is a redelivery of theirs.
        receipt, payload, _ = new.pop(trans_id)
        stored[trans_id] = winner
        redeliveries.append((receipt, payload))

    payments = [payment for *_, payment in new.values()]
    if payments:
        matches = payments_member_match(payments=payments)
        sms_receipts_enqueue(items=[(m.payment, m.member) for m in matches])
    for receipt, _, payment in new.values():
        receipt.mark(Status.PROCESSED, payment=payment)
        logger.info("Payment %s stored (receipt %s)", payment.trans_id, receipt.pk)

    stored.update({trans_id: payment for trans_id, (*_, payment) in new.items()})
    for receipt, payload in redeliveries:
        _redelivery_mark(receipt, stored[payload.trans_id], payload)

    _receipts_save(receipts)
    for receipt in receipts:
        setattr(report, receipt.status, getattr(report, receipt.status) + 1)
        if receipt.status == Status.FAILED:
            logger.warning("Callback receipt %s needs attention: %s", receipt.pk, receipt.error)
    return report


def _receipts_save(receipts: list[CallbackReceipt]) -> None:
    """Write each receipt's outcome. The usual ones (stored, or a faithful redelivery) take one
    UPDATE per status that links each receipt to the payment with its TransID; the rare
    conflicts and failures, each with its own reason, are saved one by one. (``bulk_update``
    builds a CASE per field and row, which cost more than the rest of the batch together.)"""
    usual: dict[str, list[int]] = {}
    for receipt in receipts:
        if (
            receipt.status in (Status.PROCESSED, Status.DUPLICATE)
            and receipt.trans_id == receipt.payment.trans_id
        ):
            usual.setdefault(receipt.status, []).append(receipt.pk)
        else:
            receipt.save(update_fields=CallbackReceipt.OUTCOME_FIELDS)
    payment_id = Payment.objects.filter(trans_id=OuterRef("trans_id")).values("pk")[:1]
    for status, ids in usual.items():
        CallbackReceipt.objects.filter(pk__in=ids).update(
            status=status,
            payment=Subquery(payment_id),
            error="",
            traceback="",
            processed_at=timezone.now(),
            attempts=F("attempts") + 1,  # the rows are locked: the same as receipt.attempts
        )


def payment_fields(payload: C2BPayload) -> dict[str, Any]:
    """A parsed confirmation as ``Payment`` field values (all but shortcode and validation)."""
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


def _validations_for(trans_ids: Iterable[str]) -> dict[str, ValidationDecision]:
    """The decision each confirmation is linked to: the accepting one, else the latest."""
    best: dict[str, ValidationDecision] = {}
    trans_ids = list(trans_ids)
    if not trans_ids:
        return best
    for decision in ValidationDecision.objects.filter(trans_id__in=trans_ids).order_by(
        "-accepted", "-decided_at", "-id"
    ):
        best.setdefault(decision.trans_id, decision)
    return best


def _payments_insert(payments: list[Payment]) -> dict[str, Payment]:
    """Insert the payments. Returns, by TransID, the stored payment for each one that another
    worker stored first (that one of ours was not inserted)."""
    if not payments:
        return {}
    try:
        with transaction.atomic():
            Payment.objects.bulk_create(payments)
        return {}
    except IntegrityError:
        pass
    # A race with another worker (rare): one by one, so the others still go in.
    lost: dict[str, Payment] = {}
    for payment in payments:
        payment.pk = None
        try:
            with transaction.atomic():
                payment.save(force_insert=True)
        except IntegrityError:
            winner = Payment.objects.filter(trans_id=payment.trans_id).first()
            if winner is None:
                raise
            lost[payment.trans_id] = winner
    return lost


def _redelivery_mark(receipt: CallbackReceipt, existing: Payment, payload: C2BPayload) -> None:
    differences = [
        f"{name} (stored {stored!s}, received {received!s})"
        for name, stored, received in _differences(existing, payload)
    ]
    if differences:
        logger.warning("Conflicting redelivery of %s (receipt %s)", existing.trans_id, receipt.pk)
        error = "Redelivery differs from the stored payment in: " + "; ".join(differences)
        receipt.mark(Status.CONFLICT, payment=existing, error=error)
    else:
        receipt.mark(Status.DUPLICATE, payment=existing)


def _differences(existing: Payment, payload: C2BPayload) -> list[tuple[str, Any, Any]]:
    pairs = (
        (name, getattr(existing, attr), getattr(payload, attr))
        for name, attr in COMPARED_FIELDS.items()
    )
    return [(name, stored, received) for name, stored, received in pairs if stored != received]
