"""Reconciliation: every receipt either side knows gets exactly one outcome per run.

For each shortcode with imported statements, over the run's window (default: all of it):

1. **Statement side.** Every Completed customer-payment line, in receipt order and in batches,
   is looked up in the ledger by receipt: ``matched`` (same amount and account), ``mismatch``
   (saying which differ), ``reversed`` (a reversal line names it; the member must not be
   credited) or ``missing`` (a lost callback). With ``backfill`` a missing one is stored as a
   payment (source ``statement``) the way a callback would be, and becomes ``backfilled``.
2. **Ledger side.** Payments whose time falls in a period a *covering* statement spans (read in
   full and not forced; ``StatementImport.covers``), yet which no statement lists:
   ``unconfirmed`` (a forged or failed confirmation until proven otherwise), or ``reversed``.
   A payment no covering statement spans gets no verdict.
3. **Reversals** in the window of payments not met above are ``reversed`` too.

Lines that are not customer payments (charges, transfers, reversal lines themselves, failed
attempts) take no part. Nothing is deleted: each payment's latest verdict is written on it
(``Payment.reconciled``) and it stays in the ledger and in every export. Memory stays flat and
the queries do not grow with the number of lines: batches of ``BATCH`` receipts.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from c2b.models import Payment, Shortcode
from core.eat import EAT
from reconciliation.backfill import Unrecordable, payload_from_entry, payments_backfill
from reconciliation.models import (
    ReconciliationItem,
    ReconciliationRun,
    StatementEntry,
    StatementImport,
)

logger = logging.getLogger(__name__)

Outcome = ReconciliationItem.Outcome
Kind = StatementEntry.Kind
BATCH = 5000
# The verdict each outcome writes on the payment (c2b.Payment.reconciled).
_VERDICT = {
    Outcome.MATCHED: Payment.Reconciled.MATCHED,
    Outcome.BACKFILLED: Payment.Reconciled.MATCHED,
    Outcome.UNCONFIRMED: Payment.Reconciled.UNCONFIRMED,
    Outcome.MISMATCH: Payment.Reconciled.MISMATCH,
    Outcome.REVERSED: Payment.Reconciled.REVERSED,
}
_ENTRY_FIELDS = (
    "id",
    "receipt",
    "completed_at",
    "paid_in",
    "account",
    "payer_msisdn",
    "payer_name",
    "reason_type",
    "balance",
)
_PAYMENT_FIELDS = ("id", "trans_id", "trans_time", "amount", "bill_ref_number", "source")


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime


def reconciliation_run(
    *,
    shortcode: Shortcode | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    backfill: bool = False,
    user: str = "",
    progress: Callable[[int], None] | None = None,
) -> ReconciliationRun:
    """Compare the ledger with the imported statements (see the module) and record the run.

    ``since``/``until`` bound the comparison (default: every period the statements cover);
    ``progress(receipts)`` is called as batches finish. A failure leaves the run ``failed``
    with the error, and propagates."""
    run = ReconciliationRun.objects.create(
        shortcode=shortcode, since=since, until=until, backfill=backfill, started_by=user[:150]
    )
    try:
        codes = [shortcode] if shortcode else _shortcodes_with_statements()
        for code in codes:
            _reconcile(run, code, progress or (lambda n: None))
        _summarise(run)
    except Exception as exc:
        run.status, run.error, run.finished_at = run.Status.FAILED, str(exc), timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        raise
    logger.info("Reconciliation %s finished: %s", run.pk, run.counts)
    return run


def _shortcodes_with_statements() -> list[Shortcode]:
    return list(
        Shortcode.objects.filter(Exists(StatementImport.objects.filter(shortcode=OuterRef("pk"))))
    )


def _reconcile(run: ReconciliationRun, code: Shortcode, progress: Callable[[int], None]) -> None:
    periods = _covered(code, run.since, run.until)
    run.covered = [
        *run.covered,
        *([code.number, p.start.isoformat(), p.end.isoformat()] for p in periods),
    ]
    run.save(update_fields=["covered"])
    reversals = _reversals(code)
    itemized_reversed: set[str] = set()
    window = _window(run.since, run.until, "completed_at")

    entries = (
        StatementEntry.objects.filter(window, shortcode=code, kind=Kind.PAYMENT, completed=True)
        .only(*_ENTRY_FIELDS)
        .order_by("receipt")
    )
    for batch in _batches(entries.iterator(chunk_size=BATCH)):
        items = _statement_side(run, code, batch, reversals)
        itemized_reversed.update(i.trans_id for i in items if i.trans_id in reversals)
        _save(items)
        progress(len(batch))

    if periods:
        unlisted = (
            Payment.objects.filter(_in_periods(periods), shortcode=code)
            .exclude(
                Exists(
                    StatementEntry.objects.filter(
                        shortcode=code,
                        kind=Kind.PAYMENT,
                        completed=True,
                        receipt=OuterRef("trans_id"),
                    )
                )
            )
            .only(*_PAYMENT_FIELDS)
            .order_by("trans_id")
        )
        for batch in _batches(unlisted.iterator(chunk_size=BATCH)):
            items = [_ledger_only(run, code, payment, reversals) for payment in batch]
            itemized_reversed.update(i.trans_id for i in items if i.trans_id in reversals)
            _save(items)
            progress(len(batch))

    in_window = {
        receipt
        for receipt, (_, at) in reversals.items()
        if (run.since is None or at >= run.since) and (run.until is None or at <= run.until)
    }
    left = in_window - itemized_reversed
    if left:
        payments = Payment.objects.filter(trans_id__in=left, shortcode=code).only(*_PAYMENT_FIELDS)
        _save([_ledger_only(run, code, payment, reversals) for payment in payments])


def _covered(code: Shortcode, since: datetime | None, until: datetime | None) -> list[Period]:
    """The periods covering statements span, merged, clipped to ``since``..``until``."""
    spans = StatementImport.objects.filter(shortcode=code, covers=True).order_by("period_start")
    merged: list[Period] = []
    for start, end in spans.values_list("period_start", "period_end"):
        start, end = max(start, since or start), min(end, until or end)
        if start > end:
            continue
        if merged and start <= merged[-1].end:
            merged[-1] = Period(merged[-1].start, max(merged[-1].end, end))
        else:
            merged.append(Period(start, end))
    return merged


def _reversals(code: Shortcode) -> dict[str, tuple[str, datetime]]:
    """Reversed receipt → (the reversal's receipt, when), from every statement of ``code``."""
    rows = StatementEntry.objects.filter(
        shortcode=code, kind=Kind.REVERSAL, completed=True
    ).exclude(linked_receipt="")
    return {
        linked: (receipt, at)
        for linked, receipt, at in rows.values_list("linked_receipt", "receipt", "completed_at")
    }


def _window(since: datetime | None, until: datetime | None, field: str) -> Q:
    condition = Q()
    if since is not None:
        condition &= Q(**{f"{field}__gte": since})
    if until is not None:
        condition &= Q(**{f"{field}__lte": until})
    return condition


def _in_periods(periods: list[Period]) -> Q:
    condition = Q()
    for period in periods:
        condition |= Q(trans_time__gte=period.start, trans_time__lte=period.end)
    return condition


def _batches(rows: Iterable) -> Iterator[list]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _statement_side(
    run: ReconciliationRun,
    code: Shortcode,
    entries: list[StatementEntry],
    reversals: dict[str, tuple[str, datetime]],
) -> list[ReconciliationItem]:
    stored = Payment.objects.only(*_PAYMENT_FIELDS).in_bulk(
        [e.receipt for e in entries], field_name="trans_id"
    )
    missing = [e for e in entries if e.receipt not in stored]
    backfilled: dict[str, Payment] = {}
    notes: dict[str, str] = {}
    if run.backfill and missing:
        backfilled, arrived, notes = _backfill(code, missing)
        stored.update(backfilled)
        stored.update(arrived)
    items = []
    for entry in entries:
        payment = stored.get(entry.receipt)
        item = ReconciliationItem(
            run=run,
            trans_id=entry.receipt,
            shortcode=code,
            trans_time=entry.completed_at,
            statement_amount=entry.paid_in,
            statement_account=entry.account,
            entry=entry,
            note=notes.get(entry.receipt, ""),
        )
        if payment is None:
            item.outcome = Outcome.MISSING
            item.note = item.note or "In M-Pesa's statement; its callback never arrived."
        else:
            item.payment, item.ledger_amount = payment, payment.amount
            item.ledger_account = payment.bill_ref_number
            differences = _differences(entry, payment)
            if entry.receipt in reversals:
                item.outcome, item.note = Outcome.REVERSED, _reversed_note(reversals, entry.receipt)
            elif entry.receipt in backfilled and not differences:
                item.outcome = Outcome.BACKFILLED
                item.note = "Was missing; stored from the statement by this run."
            elif differences:
                item.outcome, item.note = Outcome.MISMATCH, "; ".join(differences)
            else:
                item.outcome = Outcome.MATCHED
        items.append(item)
    return items


def _backfill(
    code: Shortcode, missing: list[StatementEntry]
) -> tuple[dict[str, Payment], dict[str, Payment], dict[str, str]]:
    """Store the missing payments. Returns those stored now, those whose callback arrived
    meanwhile (stored already: a redelivery, never a second payment), and notes by receipt."""
    payloads, notes = [], {}
    for entry in missing:
        try:
            payloads.append(payload_from_entry(entry, shortcode=code.number))
        except Unrecordable as exc:
            notes[entry.receipt] = f"Could not be stored: {exc}"
    created: dict[str, Payment] = {}
    arrived: dict[str, Payment] = {}
    for recording in payments_backfill(payloads=payloads, source=Payment.Source.STATEMENT):
        receipt = recording.payload.trans_id
        if recording.refused:
            notes[receipt] = f"Could not be stored: {recording.refused}"
        elif recording.created:
            created[receipt] = recording.payment
        else:
            arrived[receipt] = recording.payment
            notes[receipt] = "Its callback arrived while this run compared."
    return created, arrived, notes


def _ledger_only(
    run: ReconciliationRun,
    code: Shortcode,
    payment: Payment,
    reversals: dict[str, tuple[str, datetime]],
) -> ReconciliationItem:
    item = ReconciliationItem(
        run=run,
        trans_id=payment.trans_id,
        shortcode=code,
        trans_time=payment.trans_time,
        ledger_amount=payment.amount,
        ledger_account=payment.bill_ref_number,
        payment=payment,
    )
    if payment.trans_id in reversals:
        item.outcome, item.note = Outcome.REVERSED, _reversed_note(reversals, payment.trans_id)
    else:
        item.outcome = Outcome.UNCONFIRMED
        item.note = (
            f"Recorded from a {payment.get_source_display().lower()}, but no statement covering "
            "its time lists it: a forged or failed confirmation until M-Pesa confirms it."
        )
    return item


def _differences(entry: StatementEntry, payment: Payment) -> list[str]:
    found = []
    if entry.paid_in != payment.amount:
        found.append(f"Amount: statement {entry.paid_in:,.2f}, ledger {payment.amount:,.2f}")
    if entry.account and _account(entry.account) != _account(payment.bill_ref_number):
        found.append(f"Account: statement {entry.account!r}, ledger {payment.bill_ref_number!r}")
    return found


def _account(text: str) -> str:
    return "".join(text.split()).upper()


def _reversed_note(reversals: dict[str, tuple[str, datetime]], receipt: str) -> str:
    by, at = reversals[receipt]
    return f"Reversed by {by} on {at.astimezone(EAT):%d-%m-%Y %H:%M}: do not credit the member."


def _save(items: list[ReconciliationItem]) -> None:
    if not items:
        return
    with transaction.atomic():
        ReconciliationItem.objects.bulk_create(items, batch_size=BATCH)
        verdicts: dict[str, list[int]] = defaultdict(list)
        for item in items:
            if item.payment is not None and item.outcome in _VERDICT:
                verdicts[_VERDICT[item.outcome]].append(item.payment.pk)
        for verdict, ids in verdicts.items():
            Payment.objects.filter(pk__in=ids).update(reconciled=verdict)


def _summarise(run: ReconciliationRun) -> None:
    rows = (
        run.items.order_by()
        .values("outcome")
        .annotate(
            n=Count("id"),
            amount=Coalesce(Sum(Coalesce("statement_amount", "ledger_amount")), Decimal("0")),
        )
    )
    run.counts = {row["outcome"]: row["n"] for row in rows}
    run.amounts = {row["outcome"]: f"{row['amount']:.2f}" for row in rows}
    run.status, run.finished_at = run.Status.FINISHED, timezone.now()
    run.save(update_fields=["counts", "amounts", "status", "finished_at"])
