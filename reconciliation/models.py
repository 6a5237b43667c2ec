"""Safaricom's own records, kept as read, and what comparing them with the ledger found.

- ``StatementImport`` is one Org-portal statement file; ``StatementEntry`` one of its lines, kept
  with its cells as read. A line seen in two overlapping statements is kept once.
- ``ReconciliationRun`` is one comparison of the ledger with the imported statements over a
  period; ``ReconciliationItem`` one receipt's outcome in it (exactly one per receipt per run).
- ``PullSweep`` is one Pull Transactions sweep of a shortcode's last hours, with what it found.
- ``StatusCheck`` is one Transaction Status query and, once M-Pesa posts it, its result (the raw
  body kept first, like a callback's).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from c2b.models import Payment, Shortcode


class StatementImport(models.Model):
    shortcode = models.ForeignKey(Shortcode, on_delete=models.PROTECT, related_name="statements")
    filename = models.CharField(max_length=255, blank=True)
    file_format = models.CharField(max_length=4, help_text="csv, xlsx or xls.")
    sha256 = models.CharField(
        max_length=64, unique=True, help_text="Of the file's bytes: the same file imports once."
    )
    organisation = models.CharField(max_length=200, blank=True)
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    period_stated = models.BooleanField(
        help_text="Stated in the file; otherwise its first line's time to its last's."
    )
    opening_balance = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    closing_balance = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    total_paid_in = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    total_withdrawn = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    proven = models.BooleanField(
        help_text="Its lines add up to the totals and balances it states: nothing is missing."
    )
    forced = models.BooleanField(
        default=False,
        help_text="Imported although it did not add up (someone insisted).",
    )
    covers = models.BooleanField(
        help_text="Absence from it is evidence: every row was read and it was not forced. Only "
        "such statements make a payment missing from them 'unconfirmed' and a day reconciled.",
    )
    proof = models.JSONField(
        default=dict, help_text="What was checked, and every discrepancy found, as words."
    )
    lines = models.PositiveIntegerField(default=0, help_text="Lines read from the file.")
    new_lines = models.PositiveIntegerField(
        default=0, help_text="Lines kept: those no earlier statement had."
    )
    problems = models.JSONField(
        default=list, help_text="Rows that could not be read: row number, reason, cells."
    )
    preamble = models.JSONField(default=dict, help_text="The labels above the header, as read.")
    imported_at = models.DateTimeField(auto_now_add=True)
    imported_by = models.CharField(max_length=150, blank=True)

    class Meta:
        ordering = ["-imported_at", "-id"]

    def __str__(self) -> str:
        period = f"{self.period_start:%Y-%m-%d}…{self.period_end:%Y-%m-%d}"
        return f"{self.shortcode.number} statement {period}"


class StatementEntry(models.Model):
    """One statement line. Payment lines (Completed, money in) are what reconciliation matches;
    every other line (charges, transfers, reversals, failed attempts) is kept and shown."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", "Customer payment"
        CHARGE = "charge", "Charge"
        TRANSFER = "transfer", "Transfer between the organisation's accounts"
        REVERSAL = "reversal", "Reversal"
        OTHER = "other", "Other"

    statement = models.ForeignKey(
        StatementImport,
        on_delete=models.CASCADE,
        related_name="entries",
        help_text="The first statement that had this line.",
    )
    shortcode = models.ForeignKey(Shortcode, on_delete=models.PROTECT, related_name="+")
    row = models.PositiveIntegerField(help_text="Its row in that statement's file.")
    receipt = models.CharField(max_length=32)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # A receipt can have several lines (a payment and its charge; a sweep's two sides):
    # "payment:in", "charge:out"... identifies one of them across overlapping statements.
    line_key = models.CharField(max_length=20)
    completed_at = models.DateTimeField()
    initiated_at = models.DateTimeField(null=True, blank=True)
    details = models.TextField(blank=True)
    status = models.CharField(max_length=30)
    completed = models.BooleanField()
    paid_in = models.DecimalField(max_digits=16, decimal_places=2)
    withdrawn = models.DecimalField(max_digits=16, decimal_places=2)
    balance = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    reason_type = models.CharField(max_length=100, blank=True)
    other_party = models.CharField(max_length=255, blank=True)
    payer_msisdn = models.CharField(max_length=128, blank=True)
    payer_name = models.CharField(max_length=200, blank=True)
    account = models.CharField(max_length=100, blank=True, help_text="A/C No. as typed.")
    linked_receipt = models.CharField(max_length=32, blank=True)
    currency = models.CharField(max_length=8, blank=True)
    kind_reason = models.CharField(max_length=200, blank=True)
    raw = models.JSONField(default=list, help_text="The row's cells as text.")

    class Meta:
        ordering = ["-completed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["shortcode", "receipt", "line_key"], name="statement_entry_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["shortcode", "completed_at"],
                name="statement_payment_time",
                condition=Q(kind="payment", completed=True),
            ),
            models.Index(
                fields=["linked_receipt"],
                name="statement_reversal_of",
                condition=Q(kind="reversal", completed=True),
            ),
            models.Index(fields=["receipt"], name="statement_receipt"),
        ]

    def __str__(self) -> str:
        return f"{self.receipt} {self.get_kind_display()} ({self.status})"


class ReconciliationRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"

    shortcode = models.ForeignKey(
        Shortcode,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="Empty: every shortcode with imported statements.",
    )
    since = models.DateTimeField(null=True, blank=True)
    until = models.DateTimeField(null=True, blank=True)
    backfill = models.BooleanField(default=False, help_text="Missing payments were stored.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    covered = models.JSONField(
        default=list,
        help_text="The periods compared, per shortcode: [shortcode, start, end] (ISO 8601).",
    )
    counts = models.JSONField(default=dict, help_text="Receipts per outcome.")
    amounts = models.JSONField(default=dict, help_text="Shillings per outcome, as text.")
    error = models.TextField(blank=True)
    started_by = models.CharField(max_length=150, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Reconciliation #{self.pk} ({self.get_status_display()})"


class ReconciliationItem(models.Model):
    class Outcome(models.TextChoices):
        MATCHED = "matched", "Matched"
        MISSING = "missing", "Missing: in the statement, never captured"
        BACKFILLED = "backfilled", "Backfilled: was missing, stored by this run"
        UNCONFIRMED = "unconfirmed", "Unconfirmed: captured, not in the statement"
        MISMATCH = "mismatch", "Mismatch: amount or account differ"
        REVERSED = "reversed", "Reversed by M-Pesa"

    # What staff should look at (the attention page): everything but a match or a backfill.
    NEEDS_REVIEW = (Outcome.MISSING, Outcome.UNCONFIRMED, Outcome.MISMATCH, Outcome.REVERSED)

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="items")
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    trans_id = models.CharField(max_length=32)
    shortcode = models.ForeignKey(Shortcode, on_delete=models.PROTECT, related_name="+")
    trans_time = models.DateTimeField()
    statement_amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    ledger_amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    statement_account = models.CharField(max_length=100, blank=True)
    ledger_account = models.CharField(max_length=100, blank=True)
    note = models.TextField(blank=True)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    entry = models.ForeignKey(
        StatementEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.CharField(max_length=150, blank=True)
    review_note = models.TextField(blank=True)

    class Meta:
        ordering = ["trans_time", "trans_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "trans_id"], name="reconciliation_item_once")
        ]
        indexes = [
            models.Index(fields=["run", "outcome"], name="reconciliation_item_outcome"),
            models.Index(
                fields=["outcome"],
                name="reconciliation_to_review",
                condition=Q(
                    reviewed_at__isnull=True,
                    outcome__in=["missing", "unconfirmed", "mismatch", "reversed"],
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trans_id} {self.outcome}"

    @property
    def amount(self):
        return self.statement_amount if self.statement_amount is not None else self.ledger_amount


class PullSweep(models.Model):
    shortcode = models.ForeignKey(Shortcode, on_delete=models.PROTECT, related_name="pull_sweeps")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    records = models.PositiveIntegerField(default=0, help_text="Payments Pull listed.")
    known = models.PositiveIntegerField(default=0, help_text="Already in the ledger.")
    backfilled = models.PositiveIntegerField(default=0, help_text="Missing, stored by the sweep.")
    unreadable = models.PositiveIntegerField(default=0)
    pages = models.PositiveIntegerField(default=0)
    complete = models.BooleanField(default=False)
    response_code = models.CharField(max_length=10, blank=True)
    message = models.TextField(blank=True, help_text="What Daraja said (a 1001's text).")
    warning = models.TextField(blank=True, help_text="Something staff should act on.")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Pull sweep {self.shortcode.number} {self.window_start:%Y-%m-%d %H:%M}"


class StatusCheck(models.Model):
    """A Transaction Status query about one receipt, and M-Pesa's answer to it."""

    class Verdict(models.TextChoices):
        WAITING = "waiting", "Asked; M-Pesa has not answered yet"
        CONFIRMED = "confirmed", "Confirmed by M-Pesa: amount and payer agree"
        DIFFERS = "differs", "M-Pesa has it, but amount or payer differ"
        NOT_FOUND = "not_found", "Not found by M-Pesa"
        ERROR = "error", "Error"

    trans_id = models.CharField(max_length=32, db_index=True)
    shortcode = models.ForeignKey(Shortcode, on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="status_checks"
    )
    verdict = models.CharField(max_length=10, choices=Verdict.choices, default=Verdict.WAITING)
    detail = models.TextField(blank=True, help_text="Why, in words staff can act on.")
    conversation_id = models.CharField(max_length=100, blank=True, db_index=True)
    originator_conversation_id = models.CharField(max_length=100, blank=True, db_index=True)
    result_code = models.CharField(max_length=20, blank=True)
    result_received_at = models.DateTimeField(null=True, blank=True)
    amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    payer = models.CharField(max_length=255, blank=True, help_text="DebitPartyName, masked.")
    completed_at = models.DateTimeField(null=True, blank=True)
    backfilled = models.BooleanField(
        default=False, help_text="It was missing from the ledger and this answer stored it."
    )
    requested_by = models.CharField(max_length=150, blank=True)
    requested_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"Status of {self.trans_id}: {self.verdict}"


class DarajaResult(models.Model):
    """What Daraja posted to us (a Transaction Status result or queue timeout; anything on the
    CallBackURL registered for Pull), stored byte for byte before it is read, like a C2B
    callback: nothing that arrived is lost."""

    class Kind(models.TextChoices):
        STATUS_RESULT = "status-result", "Transaction Status result"
        STATUS_TIMEOUT = "status-timeout", "Transaction Status queue timeout"
        PULL_CALLBACK = "pull-callback", "Pull Transactions notification"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Needs attention"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    body = models.BinaryField(help_text="The request body exactly as received.")
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    error = models.TextField(blank=True)
    status_check = models.ForeignKey(
        StatusCheck, null=True, blank=True, on_delete=models.SET_NULL, related_name="results"
    )

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"

    @property
    def body_text(self) -> str:
        return bytes(self.body).decode("utf-8", errors="replace")
