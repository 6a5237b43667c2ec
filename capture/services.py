"""The capture worker's step: received confirmations become payments, exactly once, in batches.

The callback view has already committed each confirmation raw and answered M-Pesa. Here a worker
claims a batch of them (``SELECT … FOR UPDATE SKIP LOCKED`` on PostgreSQL, so any number of
workers on any hosts each take different receipts), records their payments through the one
recording path (``capture.recording``) and marks every receipt processed, duplicate, conflict or
failed, all in one transaction (docs/decisions.md #11).

A receipt whose capture raises (a bug, a value the database refuses) is marked failed with the
traceback without holding up the rest of its batch, and ``reprocess_callbacks --failed`` runs it
again after the fix. A database outage propagates with nothing half-written.
"""

from __future__ import annotations

import logging
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import F, OuterRef, QuerySet, Subquery
from django.utils import timezone

from c2b.models import CallbackReceipt, Payment
from c2b.payloads import C2BPayload, PayloadError, parse_c2b_body
from capture.recording import Recording, payments_record
from capture.selectors import capture_queue
from core.workers import OUTAGE

logger = logging.getLogger(__name__)

Status = CallbackReceipt.Status
# A receipt still "received" this long after arrival is waiting on a capture worker that is not
# running (or not keeping up), not in flight.
STALE_AFTER = timedelta(minutes=1)


@dataclass
class CaptureReport:
    """How many receipts of a batch ended in each state, and how many seconds the oldest of
    them had waited when the batch was stored (what the worker's pacing goes by)."""

    processed: int = 0
    duplicate: int = 0
    conflict: int = 0
    failed: int = 0
    waited: float = field(default=0.0, compare=False)

    @property
    def total(self) -> int:
        return self.processed + self.duplicate + self.conflict + self.failed

    def counts(self) -> dict[str, int]:
        """The non-zero counts by receipt status."""
        counts = {
            Status.PROCESSED: self.processed,
            Status.DUPLICATE: self.duplicate,
            Status.CONFLICT: self.conflict,
            Status.FAILED: self.failed,
        }
        return {str(status): n for status, n in counts.items() if n}

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
        receipts = list(_claimed(capture_queue())[:limit])
        report = _capture_claimed(receipts)
    if receipts:
        report.waited = max(0.0, (timezone.now() - receipts[0].received_at).total_seconds())
    return report


def capture_receipts(*, receipts: QuerySet[CallbackReceipt]) -> CaptureReport:
    """Capture the given confirmations again, whatever their status (reprocessing after a fix).

    Receipts a worker is capturing right now are skipped; validation receipts are ignored."""
    with transaction.atomic():
        chosen = receipts.filter(kind=CallbackReceipt.Kind.CONFIRMATION).order_by("id")
        return _capture_claimed(list(_claimed(chosen)))


# --- reprocessing -----------------------------------------------------------------------------


def reprocessable_receipts(*, failed: bool) -> QuerySet[CallbackReceipt]:
    """Confirmations no capture worker took within a minute, or (``failed=True``) the failed ones.

    Validation receipts are never reprocessed: M-Pesa already had its answer.
    """
    if failed:
        return CallbackReceipt.objects.filter(
            kind=CallbackReceipt.Kind.CONFIRMATION, status=Status.FAILED
        ).order_by("id")
    return capture_queue().filter(received_at__lt=timezone.now() - STALE_AFTER)


def callback_receipts_reprocess(
    *, receipts: QuerySet[CallbackReceipt], batch: int = 500
) -> Counter[str]:
    """Capture the receipts again, ``batch`` at a time; returns how many ended in each status.

    Only failed confirmations and those still waiting are taken: a processed receipt made its
    payment, and a duplicate or conflict was judged against it, so running one again could only
    relabel it."""
    results: Counter[str] = Counter()
    ids = list(
        receipts.filter(
            kind=CallbackReceipt.Kind.CONFIRMATION, status__in=[Status.FAILED, Status.RECEIVED]
        ).values_list("id", flat=True)
    )
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        report = capture_receipts(receipts=CallbackReceipt.objects.filter(pk__in=chunk))
        results.update(report.counts())
    return results


# --- one batch --------------------------------------------------------------------------------


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
    except OUTAGE:
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
        except OUTAGE:
            raise
        except Exception:
            logger.exception("Bug while capturing callback receipt %s", receipt.pk)
            receipt.mark(
                Status.FAILED,
                error="Unexpected error while capturing (see traceback).",
                traceback=traceback.format_exc(),
            )
            receipt.save(update_fields=CallbackReceipt.OUTCOME_FIELDS)
            report.failed += 1
    return report


def _capture(receipts: list[CallbackReceipt]) -> CaptureReport:
    readable: list[tuple[CallbackReceipt, C2BPayload]] = []
    for receipt in receipts:
        receipt.attempts += 1
        try:
            readable.append((receipt, parse_c2b_body(bytes(receipt.body), require_time=True)))
        except PayloadError as exc:
            receipt.mark(Status.FAILED, error=exc.reason, trans_id=exc.trans_id)

    recordings = payments_record(
        payloads=[payload for _, payload in readable], source=Payment.Source.CALLBACK
    )
    for (receipt, _), recording in zip(readable, recordings, strict=True):
        _receipt_mark(receipt, recording)
    _receipts_save(receipts)

    report = CaptureReport()
    for receipt in receipts:
        setattr(report, receipt.status, getattr(report, receipt.status) + 1)
        if receipt.status == Status.FAILED:
            logger.warning("Callback receipt %s needs attention: %s", receipt.pk, receipt.error)
    return report


def _receipt_mark(receipt: CallbackReceipt, recording: Recording) -> None:
    if recording.refused:
        receipt.mark(Status.FAILED, error=recording.refused, trans_id=recording.payload.trans_id)
    elif recording.created:
        receipt.mark(Status.PROCESSED, payment=recording.payment)
    elif recording.differences:
        differences = "; ".join(
            f"{key} (stored {stored!s}, received {received!s})"
            for key, stored, received in recording.differences
        )
        logger.warning("Conflicting redelivery of %s (receipt %s)", receipt.trans_id, receipt.pk)
        receipt.mark(
            Status.CONFLICT,
            payment=recording.payment,
            error=f"Redelivery differs from the stored payment in: {differences}",
        )
    else:
        receipt.mark(Status.DUPLICATE, payment=recording.payment)


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
