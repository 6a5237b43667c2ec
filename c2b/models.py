"""What M-Pesa sent us, and what we made of it.

``CallbackReceipt`` is the raw record, written before anything is parsed; ``Payment`` is the
trusted, typed record, unique per M-Pesa receipt (TransID) by a database constraint;
``ValidationDecision`` is every accept/reject answer we gave on the validation URL.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from c2b.payloads import FIELD_BY_ATTR


def _max_length(attr: str) -> int:
    """A text column as long as the callback field it holds (``c2b.payloads.C2B_FIELDS``)."""
    length = FIELD_BY_ATTR[attr].max_length
    assert length is not None
    return length


class Shortcode(models.Model):
    class Kind(models.TextChoices):
        PAYBILL = "paybill", "Paybill"
        TILL = "till", "Till (Buy Goods)"

    class Environment(models.TextChoices):
        SANDBOX = "sandbox", "Sandbox"
        PRODUCTION = "production", "Production"

    class ApiVersion(models.TextChoices):
        V1 = "v1", "v1"
        V2 = "v2", "v2"

    class ResponseType(models.TextChoices):
        COMPLETED = "Completed", "Completed"
        CANCELLED = "Cancelled", "Cancelled"

    number = models.CharField(
        max_length=7,
        unique=True,
        validators=[RegexValidator(r"^\d{5,7}$", "A shortcode is 5 to 7 digits.")],
        help_text="Paybill or till number as M-Pesa sends it in BusinessShortCode.",
    )
    name = models.CharField(
        max_length=100, blank=True, help_text="Label for staff, e.g. 'Main paybill'."
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PAYBILL)
    environment = models.CharField(
        max_length=10, choices=Environment.choices, default=Environment.SANDBOX
    )
    api_version = models.CharField(
        max_length=2,
        choices=ApiVersion.choices,
        default=ApiVersion.V2,
        help_text="Register URL API version the SACCO's Daraja app is entitled to (v1 or v2).",
    )
    response_type = models.CharField(
        max_length=10,
        choices=ResponseType.choices,
        default=ResponseType.COMPLETED,
        help_text="What M-Pesa does when our validation URL does not answer in time.",
    )
    min_amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Validation rejects smaller payments (C2B00013). Never applies to confirmations.",
    )
    max_amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text="Validation rejects larger payments (C2B00013). Never applies to confirmations.",
    )
    account_pattern = models.CharField(
        max_length=200,
        blank=True,
        help_text="Regular expression the whole account number must match, else validation "
        "rejects with C2B00012. Empty accepts any account.",
    )
    enabled = models.BooleanField(
        default=True, help_text="Disabled shortcodes are rejected at validation (C2B00015)."
    )
    require_active_member = models.BooleanField(
        default=False,
        help_text="Validation rejects (C2B00012) account numbers that are not an active "
        "member's number. Never applies to confirmations.",
    )
    registered_at = models.DateTimeField(null=True, blank=True, editable=False)
    registration_result = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_amount__isnull=True)
                | Q(max_amount__isnull=True)
                | Q(min_amount__lte=models.F("max_amount")),
                name="shortcode_min_amount_lte_max_amount",
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.name})" if self.name else self.number

    def clean(self) -> None:
        if self.account_pattern:
            try:
                re.compile(self.account_pattern)
            except re.error as exc:
                raise ValidationError(
                    {"account_pattern": f"Not a valid regular expression: {exc}"}
                ) from None
        if (
            self.min_amount is not None
            and self.max_amount is not None
            and self.min_amount > self.max_amount
        ):
            raise ValidationError({"min_amount": "The minimum is above the maximum."})

    @property
    def command_id(self) -> str:
        return (
            "CustomerPayBillOnline" if self.kind == self.Kind.PAYBILL else "CustomerBuyGoodsOnline"
        )


class CallbackReceipt(models.Model):
    """One HTTP request that passed the token check, stored byte for byte before parsing."""

    class Kind(models.TextChoices):
        VALIDATION = "validation", "Validation"
        CONFIRMATION = "confirmation", "Confirmation"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received (waiting for capture)"
        PROCESSED = "processed", "Processed"
        DUPLICATE = "duplicate", "Duplicate delivery (same content)"
        CONFLICT = "conflict", "Redelivery with different content"
        FAILED = "failed", "Needs attention"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.RECEIVED, db_index=True
    )
    body = models.BinaryField(help_text="The request body exactly as received.")
    headers = models.JSONField(default=dict, help_text="Request headers useful for diagnosis.")
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    trans_id = models.CharField(
        max_length=_max_length("trans_id"),
        blank=True,
        db_index=True,
        help_text="TransID, when it could be read.",
    )
    error = models.TextField(
        blank=True, help_text="Why processing failed, in words staff can act on."
    )
    traceback = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    payment = models.ForeignKey(
        "Payment", null=True, blank=True, on_delete=models.PROTECT, related_name="receipts"
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["kind", "status"], name="receipt_kind_status"),
            # The capture worker's queue: small, because captured receipts leave it.
            models.Index(
                fields=["id"],
                condition=Q(kind="confirmation", status="received"),
                name="receipt_capture_queue",
            ),
        ]

    # The columns an outcome writes: what mark() sets, and the attempts counted by the caller.
    OUTCOME_FIELDS = [
        "status",
        "payment",
        "error",
        "traceback",
        "processed_at",
        "attempts",
        "trans_id",
    ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} {self.trans_id or '?'} ({self.status})"

    def mark(
        self,
        status: str,
        *,
        payment: Payment | None = None,
        error: str = "",
        traceback: str = "",
        trans_id: str = "",
    ) -> None:
        """Record how processing ended, unsaved: the caller saves ``OUTCOME_FIELDS`` (or many
        receipts in one statement). ``trans_id`` replaces the stored one only when given."""
        self.status = status
        self.payment = payment
        self.error = error
        self.traceback = traceback
        self.processed_at = timezone.now()
        if trans_id:
            self.trans_id = trans_id

    @property
    def body_text(self) -> str:
        return bytes(self.body).decode("utf-8", errors="replace")


class ValidationDecision(models.Model):
    receipt = models.OneToOneField(
        CallbackReceipt, on_delete=models.PROTECT, related_name="validation_decision"
    )
    trans_id = models.CharField(max_length=_max_length("trans_id"), blank=True, db_index=True)
    shortcode = models.ForeignKey(Shortcode, null=True, blank=True, on_delete=models.PROTECT)
    business_short_code = models.CharField(
        max_length=_max_length("business_short_code"), blank=True
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    bill_ref_number = models.CharField(max_length=_max_length("bill_ref_number"), blank=True)
    accepted = models.BooleanField()
    result_code = models.CharField(max_length=10, help_text="'0' or a C2B000xx rejection code.")
    reason = models.TextField(blank=True, help_text="Why we answered as we did.")
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-decided_at", "-id"]

    def __str__(self) -> str:
        verdict = "accepted" if self.accepted else f"rejected {self.result_code}"
        return f"{self.trans_id or '?'} {verdict}"


class Payment(models.Model):
    """A completed M-Pesa payment, stored once per TransID whatever told us about it."""

    class Source(models.TextChoices):
        CALLBACK = "callback", "M-Pesa confirmation callback"
        STATEMENT = "statement", "Org-portal statement (reconciliation)"
        PULL = "pull", "Pull Transactions API (reconciliation)"
        STATUS = "status", "Transaction Status API (reconciliation)"

    class Reconciled(models.TextChoices):
        """What the latest reconciliation found wrong with it, if anything."""

        NO_FINDING = "", "No finding (M-Pesa's records agree, or not compared yet)"
        UNCONFIRMED = "unconfirmed", "Unconfirmed: not in M-Pesa's statement"
        MISMATCH = "mismatch", "Mismatch: amount or account differ"
        REVERSED = "reversed", "Reversed by M-Pesa"

    trans_id = models.CharField(
        "TransID",
        max_length=_max_length("trans_id"),
        unique=True,
        help_text="M-Pesa receipt number.",
    )
    transaction_type = models.CharField(max_length=_max_length("transaction_type"), blank=True)
    trans_time = models.DateTimeField(db_index=True, help_text="When M-Pesa completed it (UTC).")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    shortcode = models.ForeignKey(Shortcode, on_delete=models.PROTECT, related_name="payments")
    business_short_code = models.CharField(
        max_length=_max_length("business_short_code"), help_text="As sent by M-Pesa."
    )
    bill_ref_number = models.CharField(
        max_length=_max_length("bill_ref_number"),
        blank=True,
        help_text="Account number as the customer typed it.",
    )
    invoice_number = models.CharField(max_length=_max_length("invoice_number"), blank=True)
    org_account_balance = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True
    )
    third_party_trans_id = models.CharField(
        max_length=_max_length("third_party_trans_id"), blank=True
    )
    msisdn = models.CharField(
        "MSISDN",
        max_length=_max_length("msisdn"),
        blank=True,
        help_text="Payer as M-Pesa sent it: full, masked (2547 ***** 126) or a SHA-256 hash.",
    )
    first_name = models.CharField(max_length=_max_length("first_name"), blank=True)
    middle_name = models.CharField(max_length=_max_length("middle_name"), blank=True)
    last_name = models.CharField(max_length=_max_length("last_name"), blank=True)
    extra = models.JSONField(
        default=dict, blank=True, help_text="Keys M-Pesa sent that we don't model."
    )
    source = models.CharField(
        max_length=10,
        choices=Source.choices,
        default=Source.CALLBACK,
        help_text="What told us about it: M-Pesa's callback, or reconciliation found it.",
    )
    reconciled = models.CharField(
        max_length=12,
        choices=Reconciled.choices,
        default=Reconciled.NO_FINDING,
        blank=True,
        help_text="What the latest reconciliation found wrong with it: unconfirmed, mismatch or "
        "reversed. The payment is never deleted for it.",
    )
    amended = models.TextField(
        blank=True,
        help_text="Fields completed after it was first recorded, when, and from what.",
    )
    validation = models.ForeignKey(
        ValidationDecision, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-trans_time", "-trans_id"]
        indexes = [
            models.Index(fields=["shortcode", "trans_time"], name="payment_shortcode_time"),
            models.Index(fields=["bill_ref_number"], name="payment_bill_ref"),
        ]

    def __str__(self) -> str:
        return f"{self.trans_id} KES {self.amount}"

    @property
    def payer_name(self) -> str:
        return " ".join(n for n in (self.first_name, self.middle_name, self.last_name) if n)
