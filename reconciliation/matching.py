"""Reconciliation: every receipt either side knows gets exactly one outcome per run.

For each shortcode with imported statements, over the run's window (default: all of it):

1. **Statement side.** Every Completed customer-payment line is joined to the ledger by
   receipt: ``matched`` (same amount and account), ``mismatch`` (the note says which differ),
   ``reversed`` (a reversal line names it; the member must not be credited) or ``missing`` (a
   lost callback). With ``backfill`` a missing one is stored as a payment (source
   ``statement``) through the one recording path, and becomes ``backfilled``.
2. **Ledger side.** Payments whose time falls in a period a *covering* statement spans (read in
   full and not forced; ``StatementImport.covers``), yet which no statement lists:
   ``unconfirmed`` (a forged or failed confirmation until proven otherwise), or ``reversed``.
   A payment no covering statement spans gets no verdict.
3. **Reversals** in the window of payments not met above are ``reversed`` too.

Lines that are not customer payments (charges, transfers, reversal lines themselves, failed
attempts) take no part. Nothing is deleted: each payment's latest finding is written on it
(``Payment.reconciled``: unconfirmed, mismatch or reversed) and it stays in the ledger and in
every export.

The comparison is a few set-based statements (``INSERT … SELECT`` with joins, standard SQL that
PostgreSQL and SQLite both run), so 100,000 lines against 100,000 payments take seconds and the
process's memory does not grow with them; only the rare findings that need words (mismatches,
reversals) and the payments to backfill pass through Python.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Sum
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
BATCH = 2000
# What a run writes on the payments it judged (c2b.Payment.reconciled): its findings; a payment
# M-Pesa's records agree with carries none (writing "matched" on 100,000 rows would rewrite
# every row and index of the ledger for nothing a person needs to see).
_FINDINGS = {
    Outcome.UNCONFIRMED: Payment.Reconciled.UNCONFIRMED,
    Outcome.MISMATCH: Payment.Reconciled.MISMATCH,
    Outcome.REVERSED: Payment.Reconciled.REVERSED,
}
NOTES = {
    Outcome.MISSING: "In M-Pesa's statement; its callback never arrived.",
    Outcome.UNCONFIRMED: "No statement covering its time lists it: a forged or failed "
    "confirmation until M-Pesa confirms it.",
    Outcome.BACKFILLED: "Was missing; stored from the statement by this run.",
}


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
    progress: Callable[[str], None] | None = None,
) -> ReconciliationRun:
    """Compare the ledger with the imported statements (see the module) and record the run.

    ``since``/``until`` bound the comparison (default: every period the statements cover);
    ``progress(step)`` is told each step as it starts. A failure leaves the run ``failed``
    with the error, and propagates."""
    run = ReconciliationRun.objects.create(
        shortcode=shortcode, since=since, until=until, backfill=backfill, started_by=user[:150]
    )
    try:
        codes = [shortcode] if shortcode else _shortcodes_with_statements()
        for code in codes:
            _reconcile(run, code, progress or (lambda step: None))
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


def _reconcile(run: ReconciliationRun, code: Shortcode, progress: Callable[[str], None]) -> None:
    periods = _covered(code, run.since, run.until)
    run.covered = [
        *run.covered,
        *([code.number, p.start.isoformat(), p.end.isoformat()] for p in periods),
    ]
    run.save(update_fields=["covered"])
    sql = _Statements(run, code)
    with transaction.atomic():
        progress(f"{code.number}: statement lines against the ledger")
        sql.statement_side()
        if periods:
            progress(f"{code.number}: payments no statement lists")
            sql.ledger_side(periods)
        sql.reversals_left()
        sql.constant_notes()
        _notes_in_words(run, code)
    if run.backfill:
        progress(f"{code.number}: storing the missing payments")
        _backfill(run, code)
    _verdicts_write(run, code)


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


class _Statements:
    """The run's set-based statements for one shortcode. Only the models' table and column
    names and constant outcome words go into the SQL text; everything else is a parameter."""

    def __init__(self, run: ReconciliationRun, code: Shortcode) -> None:
        self.run, self.code = run, code
        q = connection.ops.quote_name
        self.items = q(ReconciliationItem._meta.db_table)
        self.entries = q(StatementEntry._meta.db_table)
        self.payments = q(Payment._meta.db_table)

    def _window(self, column: str) -> tuple[str, list[Any]]:
        sql, params = "", []
        if self.run.since is not None:
            sql, params = sql + f" AND {column} >= %s", [*params, self.run.since]
        if self.run.until is not None:
            sql, params = sql + f" AND {column} <= %s", [*params, self.run.until]
        return sql, params

    def _reversals(self, *, in_window: bool = False) -> tuple[str, list[Any]]:
        """One row per reversed receipt of the shortcode (from any of its statements)."""
        window, params = self._window("completed_at") if in_window else ("", [])
        return (
            f"(SELECT linked_receipt FROM {self.entries} WHERE shortcode_id = %s "  # noqa: S608
            f"AND kind = '{StatementEntry.Kind.REVERSAL}' AND completed AND linked_receipt <> ''"
            f"{window} GROUP BY linked_receipt)",
            [self.code.pk, *params],
        )

    _COLUMNS = (
        "run_id, outcome, trans_id, shortcode_id, trans_time, statement_amount, ledger_amount, "
        "statement_account, ledger_account, note, payment_id, entry_id, reviewed_by, review_note"
    )

    def statement_side(self) -> None:
        reversals, reversal_params = self._reversals()
        window, window_params = self._window("e.completed_at")
        account = "UPPER(REPLACE({}, ' ', ''))"
        self._execute(
            f"INSERT INTO {self.items} ({self._COLUMNS}) "  # noqa: S608
            "SELECT %s, CASE "
            f"WHEN p.id IS NULL THEN '{Outcome.MISSING}' "
            f"WHEN r.linked_receipt IS NOT NULL THEN '{Outcome.REVERSED}' "
            f"WHEN p.amount <> e.paid_in THEN '{Outcome.MISMATCH}' "
            f"WHEN e.account <> '' AND {account.format('e.account')} <> "
            f"{account.format('p.bill_ref_number')} THEN '{Outcome.MISMATCH}' "
            f"ELSE '{Outcome.MATCHED}' END, "
            "e.receipt, e.shortcode_id, e.completed_at, e.paid_in, p.amount, e.account, "
            "COALESCE(p.bill_ref_number, ''), '', p.id, e.id, '', '' "
            f"FROM {self.entries} e "
            f"LEFT JOIN {self.payments} p ON p.trans_id = e.receipt "
            f"LEFT JOIN {reversals} r ON r.linked_receipt = e.receipt "
            f"WHERE e.shortcode_id = %s AND e.kind = '{StatementEntry.Kind.PAYMENT}' "
            f"AND e.completed{window}",
            [self.run.pk, *reversal_params, self.code.pk, *window_params],
        )

    def ledger_side(self, periods: list[Period]) -> None:
        reversals, reversal_params = self._reversals()
        spans = " OR ".join(["(p.trans_time >= %s AND p.trans_time <= %s)"] * len(periods))
        self._execute(
            f"INSERT INTO {self.items} ({self._COLUMNS}) "  # noqa: S608
            f"SELECT %s, CASE WHEN r.linked_receipt IS NOT NULL THEN '{Outcome.REVERSED}' "
            f"ELSE '{Outcome.UNCONFIRMED}' END, "
            "p.trans_id, p.shortcode_id, p.trans_time, NULL, p.amount, '', p.bill_ref_number, "
            "'', p.id, NULL, '', '' "
            f"FROM {self.payments} p "
            f"LEFT JOIN {reversals} r ON r.linked_receipt = p.trans_id "
            f"WHERE p.shortcode_id = %s AND ({spans}) AND NOT EXISTS ("
            f"SELECT 1 FROM {self.entries} e WHERE e.shortcode_id = %s "
            f"AND e.kind = '{StatementEntry.Kind.PAYMENT}' AND e.completed "
            "AND e.receipt = p.trans_id)",
            [
                self.run.pk,
                *reversal_params,
                self.code.pk,
                *(moment for p in periods for moment in (p.start, p.end)),
                self.code.pk,
            ],
        )

    def reversals_left(self) -> None:
        """Reversals in the window of payments neither side met (paid before the window)."""
        reversals, reversal_params = self._reversals(in_window=True)
        self._execute(
            f"INSERT INTO {self.items} ({self._COLUMNS}) "  # noqa: S608
            f"SELECT %s, '{Outcome.REVERSED}', p.trans_id, p.shortcode_id, p.trans_time, NULL, "
            "p.amount, '', p.bill_ref_number, '', p.id, NULL, '', '' "
            f"FROM {reversals} r JOIN {self.payments} p ON p.trans_id = r.linked_receipt "
            f"WHERE NOT EXISTS (SELECT 1 FROM {self.items} i WHERE i.run_id = %s "
            "AND i.trans_id = p.trans_id)",
            [self.run.pk, *reversal_params, self.run.pk],
        )

    def constant_notes(self) -> None:
        for outcome in (Outcome.MISSING, Outcome.UNCONFIRMED):
            ReconciliationItem.objects.filter(run=self.run, outcome=outcome).update(
                note=NOTES[outcome]
            )

    @staticmethod
    def _execute(sql: str, params: list[Any]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def _notes_in_words(run: ReconciliationRun, code: Shortcode) -> None:
    """Say what differs, or what reversed it: few rows, worded in Python."""
    reversals = {
        linked: (receipt, at)
        for linked, receipt, at in StatementEntry.objects.filter(
            shortcode=code, kind=StatementEntry.Kind.REVERSAL, completed=True
        )
        .exclude(linked_receipt="")
        .values_list("linked_receipt", "receipt", "completed_at")
    }
    items = list(
        ReconciliationItem.objects.filter(
            run=run, shortcode=code, outcome__in=[Outcome.MISMATCH, Outcome.REVERSED]
        )
    )
    for item in items:
        if item.outcome == Outcome.REVERSED:
            by, at = reversals[item.trans_id]
            item.note = (
                f"Reversed by {by} on {at.astimezone(EAT):%d-%m-%Y %H:%M}: do not credit the "
                "member."
            )
        else:
            item.note = "; ".join(_differences(item))
    ReconciliationItem.objects.bulk_update(items, ["note"], batch_size=BATCH)


def _differences(item: ReconciliationItem) -> list[str]:
    found = []
    if item.statement_amount != item.ledger_amount:
        found.append(
            f"Amount: statement {item.statement_amount:,.2f}, ledger {item.ledger_amount:,.2f}"
        )
    if item.statement_account and _account(item.statement_account) != _account(item.ledger_account):
        found.append(
            f"Account: statement {item.statement_account!r}, ledger {item.ledger_account!r}"
        )
    return found


def _account(text: str) -> str:
    return text.replace(" ", "").upper()


def _backfill(run: ReconciliationRun, code: Shortcode) -> None:
    """Store the missing payments through the one recording path, a batch at a time."""
    missing = ReconciliationItem.objects.filter(
        run=run, shortcode=code, outcome=Outcome.MISSING
    ).select_related("entry")
    last = 0
    while True:
        batch = list(missing.filter(pk__gt=last).order_by("pk")[:BATCH])
        if not batch:
            return
        last = batch[-1].pk
        _backfill_batch(code, batch)


def _backfill_batch(code: Shortcode, items: list[ReconciliationItem]) -> None:
    payloads, by_receipt = [], {item.trans_id: item for item in items}
    for item in items:
        try:
            payloads.append(payload_from_entry(item.entry, shortcode=code.number))
        except Unrecordable as exc:
            item.note = f"Could not be stored: {exc}"
    for recording in payments_backfill(payloads=payloads, source=Payment.Source.STATEMENT):
        item = by_receipt[recording.payload.trans_id]
        if recording.refused:
            item.note = f"Could not be stored: {recording.refused}"
            continue
        item.payment = recording.payment
        item.ledger_amount = recording.payment.amount
        item.ledger_account = recording.payment.bill_ref_number
        if recording.created:
            item.outcome, item.note = Outcome.BACKFILLED, NOTES[Outcome.BACKFILLED]
        else:  # its callback arrived while the run compared: a redelivery, judged as usual
            differences = _differences(item)
            item.outcome = Outcome.MISMATCH if differences else Outcome.MATCHED
            item.note = "; ".join(["Its callback arrived while this run compared.", *differences])
    ReconciliationItem.objects.bulk_update(
        items, ["outcome", "payment", "ledger_amount", "ledger_account", "note"]
    )


def _verdicts_write(run: ReconciliationRun, code: Shortcode) -> None:
    """Each payment the run found wrong carries the finding; one it matched loses an earlier
    one. Only rows that change are written."""
    judged = ReconciliationItem.objects.filter(run=run, shortcode=code, payment=OuterRef("pk"))
    for outcome, finding in _FINDINGS.items():
        Payment.objects.filter(Exists(judged.filter(outcome=outcome))).exclude(
            reconciled=finding
        ).update(reconciled=finding)
    agreed = judged.filter(outcome__in=[Outcome.MATCHED, Outcome.BACKFILLED])
    Payment.objects.exclude(reconciled="").filter(Exists(agreed)).update(reconciled="")


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
