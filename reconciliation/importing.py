"""Importing an Org-portal statement: read it, prove it adds up, keep every line once.

The file is read twice, streaming (``reconciliation.statements``): once to prove it complete
(``statement_proof``), then to store its lines in batches, so 100,000 lines take a few bulk
inserts and flat memory. Nothing is written unless the whole import succeeds.

- The same file (same bytes) imports once; importing it again changes nothing and says so.
- Overlapping statements keep each line once (``StatementEntry`` is unique per shortcode,
  receipt and line), each kept under the first statement that had it.
- A file whose figures do not add up (a row deleted or edited in a spreadsheet) is refused with
  every difference named, unless forced; a forced one is recorded as such and never covers a day.
- A row that cannot be read is reported with its row number and the rest import; the statement
  then cannot cover a day either.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import JSONField
from django.utils import timezone

from c2b.models import Payment, Shortcode
from reconciliation.models import StatementEntry, StatementImport
from reconciliation.statements import (
    LineKind,
    LineProblem,
    Proof,
    Statement,
    StatementError,
    StatementLine,
    open_statement,
    statement_proof,
)

logger = logging.getLogger(__name__)

BATCH = 5000


class StatementRefused(Exception):
    """The file is not imported; ``reasons`` say why, each a sentence staff can act on."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(" ".join(reasons))
        self.reasons = reasons


@dataclass
class ImportReport:
    statement: StatementImport
    already_imported: bool = False
    lines: int = 0
    new_lines: int = 0
    problems: list[dict] = field(default_factory=list)

    @property
    def known_lines(self) -> int:
        """Lines an earlier (overlapping) statement had already brought."""
        return self.lines - self.new_lines


def statement_import(
    *,
    data: bytes,
    filename: str = "",
    shortcode: str = "",
    force: bool = False,
    user: str = "",
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import one statement file (CSV, XLSX or XLS). Raises ``StatementRefused`` (nothing
    written) for a file that is not a statement, is not one of our shortcodes', or does not add
    up and ``force`` is off. ``progress(lines)`` is called as lines are stored."""
    digest = hashlib.sha256(data).hexdigest()
    earlier = StatementImport.objects.filter(sha256=digest).first()
    if earlier is not None:
        return ImportReport(
            statement=earlier, already_imported=True, lines=earlier.lines, new_lines=0
        )
    try:
        statement = open_statement(data, filename=filename)
    except StatementError as exc:
        raise StatementRefused([str(exc)]) from None
    code = _shortcode(statement, shortcode)
    with transaction.atomic():
        # One reading: the lines are stored as the proof reads them, and all of it is rolled
        # back if the statement turns out not to add up.
        record = _statement_record(statement, code, digest, user=user)
        storing = _StoringStatement(statement, record, progress)
        proof = statement_proof(storing)
        figures_wrong = [d for d in proof.discrepancies if not _is_unread_row(d)]
        if figures_wrong and not force:
            raise StatementRefused(
                [
                    "The statement does not add up, so nothing was imported:",
                    *figures_wrong,
                    "If you are sure, import it again with force (it will never count as proof).",
                ]
            )
        if proof.period_start is None or proof.period_end is None:
            raise StatementRefused(["The statement states no period and has no lines."])
        report = storing.finish()
        _proof_record(record, proof, report, forced=bool(figures_wrong))
    _statistics_refresh()
    logger.info(
        "Statement %s imported for %s: %s lines, %s new, %s unreadable%s",
        record.pk,
        code.number,
        report.lines,
        report.new_lines,
        len(report.problems),
        " (forced)" if record.forced else "",
    )
    return report


def _statistics_refresh() -> None:
    """A big import changes the table more than autovacuum notices at once; without fresh
    statistics PostgreSQL plans the next reconciliation as if the table were tiny (a nested
    loop of scans instead of one hash join: minutes instead of seconds at 100,000 lines)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {StatementEntry._meta.db_table}")


def _is_unread_row(discrepancy: str) -> bool:
    # Reported row by row as problems; they make the statement unable to cover a day, and the
    # rest of it still imports (see the module's description).
    return "could not be read" in discrepancy


def _shortcode(statement: Statement, given: str) -> Shortcode:
    """The statement's shortcode: its preamble's, else ``given``, else the one the lines'
    receipts belong to in the ledger, else the only shortcode there is."""
    stated = statement.preamble.shortcode.strip()
    if stated and given and stated != given:
        raise StatementRefused([f"The statement is for shortcode {stated}, not {given}."])
    number = stated or given
    if number:
        found = Shortcode.objects.filter(number=number).first()
        if found is None:
            raise StatementRefused(
                [f"The statement is for shortcode {number}, which is not one of ours."]
            )
        return found
    receipts = _first_receipts(statement)
    codes = set(Payment.objects.filter(trans_id__in=receipts).values_list("shortcode", flat=True))
    if len(codes) == 1:
        return Shortcode.objects.get(pk=codes.pop())
    only = list(Shortcode.objects.all()[:2])
    if len(only) == 1:
        return only[0]
    raise StatementRefused(
        ["The statement does not say which shortcode it is for: give it (--shortcode)."]
    )


def _first_receipts(statement: Statement, count: int = 200) -> list[str]:
    receipts = []
    for line in statement.rows():
        if isinstance(line, StatementLine) and line.kind == LineKind.PAYMENT:
            receipts.append(line.receipt)
            if len(receipts) >= count:
                break
    return receipts


def _statement_record(
    statement: Statement, code: Shortcode, digest: str, *, user: str
) -> StatementImport:
    """The statement's row, before its lines are read: the period and the proof follow."""
    preamble = statement.preamble
    placeholder = preamble.period_start or preamble.period_end or timezone.now()
    return StatementImport.objects.create(
        shortcode=code,
        filename=statement.filename[:255],
        file_format=statement.format,
        sha256=digest,
        organisation=preamble.organisation[:200],
        period_start=placeholder,
        period_end=placeholder,
        period_stated=False,
        opening_balance=preamble.opening_balance,
        closing_balance=preamble.closing_balance,
        total_paid_in=preamble.total_paid_in,
        total_withdrawn=preamble.total_withdrawn,
        proven=False,
        covers=False,
        preamble=dict(preamble.labels),
        imported_by=user[:150],
    )


def _proof_record(
    record: StatementImport, proof: Proof, report: ImportReport, *, forced: bool
) -> None:
    record.period_start, record.period_end = proof.period_start, proof.period_end
    record.period_stated, record.proven, record.forced = proof.period_stated, proof.complete, forced
    # Absence from it is evidence only if it was read in full and not forced.
    record.covers = not forced and not report.problems
    record.proof = {
        "checked": list(proof.checked),
        "discrepancies": list(proof.discrepancies),
        "notes": list(proof.notes),
        "paid_in": f"{proof.paid_in:.2f}",
        "withdrawn": f"{proof.withdrawn:.2f}",
        "order": proof.order,
    }
    record.lines, record.new_lines, record.problems = (
        report.lines,
        report.new_lines,
        report.problems,
    )
    record.save()


class _StoringStatement:
    """The statement as ``statement_proof`` reads it, storing each line as it passes, in
    batches: one reading of the file does both."""

    def __init__(
        self,
        statement: Statement,
        record: StatementImport,
        progress: Callable[[int], None] | None,
    ) -> None:
        self.preamble = statement.preamble
        self.statement, self.record, self.progress = statement, record, progress
        self.report = ImportReport(statement=record)
        self.store = _copy_batch if connection.vendor == "postgresql" else _insert_batch
        self.batch: list[dict[str, Any]] = []
        self.keys: set[tuple[str, str]] = set()

    def rows(self) -> Iterator[StatementLine | LineProblem]:
        for line in self.statement.rows():
            self._keep(line)
            yield line

    def _keep(self, line: StatementLine | LineProblem) -> None:
        if isinstance(line, LineProblem):
            self.report.problems.append(
                {"row": line.row, "reason": line.reason, "raw": list(line.raw)}
            )
            return
        self.report.lines += 1
        entry = _entry(line, self.record)
        key = (entry["receipt"], entry["line_key"])
        if key in self.keys:  # twice in one file: the first one counts
            return
        self.keys.add(key)
        self.batch.append(entry)
        if len(self.batch) >= BATCH:
            self._flush()

    def _flush(self) -> None:
        if self.batch:
            self.store(self.batch)
            if self.progress:
                self.progress(len(self.batch))
            self.batch = []

    def finish(self) -> ImportReport:
        self._flush()
        self.report.new_lines = StatementEntry.objects.filter(statement=self.record).count()
        return self.report


def _entry(line: StatementLine, record: StatementImport) -> dict[str, Any]:
    """A line as ``StatementEntry`` column values (by attribute name)."""
    direction = "in" if line.paid_in else "out"
    status = "done" if line.completed else line.status.lower()[:8]
    return {
        "statement_id": record.pk,
        "shortcode_id": record.shortcode_id,
        "row": line.row,
        "receipt": line.receipt[:32],
        "kind": str(line.kind),
        "line_key": f"{line.kind}:{direction}:{status}"[:20],
        "completed_at": line.completed_at,
        "initiated_at": line.initiated_at,
        "details": line.details,
        "status": line.status[:30],
        "completed": line.completed,
        "paid_in": line.paid_in,
        "withdrawn": line.withdrawn,
        "balance": line.balance,
        "reason_type": line.reason_type[:100],
        "other_party": line.other_party[:255],
        "payer_msisdn": line.payer_msisdn[:128],
        "payer_name": line.payer_name[:200],
        "account": line.account[:100],
        "linked_receipt": line.linked_receipt[:32],
        "currency": line.currency[:8],
        "kind_reason": line.kind_reason[:200],
        "raw": list(line.raw),
    }


def _insert_batch(batch: list[dict[str, Any]]) -> None:
    entries = [StatementEntry(**values) for values in batch]
    StatementEntry.objects.bulk_create(entries, batch_size=500, ignore_conflicts=True)


_COLUMNS = [f for f in StatementEntry._meta.concrete_fields if not f.primary_key]


def _copy_batch(batch: list[dict[str, Any]]) -> None:
    """PostgreSQL: the batch through COPY into a scratch table, then one INSERT that skips the
    lines already kept. A fifth of ``bulk_create``'s time: no per-field preparation in Python
    and no parameter list the size of the batch (docs/benchmarks.md, "Reconciliation")."""
    q = connection.ops.quote_name
    table = q(StatementEntry._meta.db_table)
    columns = ", ".join(q(f.column) for f in _COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS statement_lines_incoming "  # noqa: S608
            f"AS SELECT {columns} FROM {table} WITH NO DATA"
        )
        with cursor.copy(f"COPY statement_lines_incoming ({columns}) FROM STDIN") as copy:
            for values in batch:
                copy.write_row([_copy_value(f, values[f.attname]) for f in _COLUMNS])
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} "  # noqa: S608
            "FROM statement_lines_incoming ON CONFLICT DO NOTHING"
        )
        cursor.execute("TRUNCATE statement_lines_incoming")


def _copy_value(field: Any, value: Any) -> Any:
    return json.dumps(value) if isinstance(field, JSONField) else value
