"""The member registry and each payment's link to it.

In a SACCO the account number a payer types (BillRefNumber) is their member number, so a payment
is matched to a member by that number once normalised (trim, upper case, no inner spaces), with
the payer's phone as a second signal. ``MemberMatch`` records the outcome for every payment,
matched or not, and which rule decided it.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models

from c2b.payloads import FIELD_BY_ATTR
from core.phones import phone_hash, phone_mask, phone_normalise

_WHITESPACE = re.compile(r"\s+")
MEMBER_NUMBER_MAX = 20


def member_number_normalise(raw: str) -> str:
    """How account numbers are compared: ``' ns 00123 '`` → ``'NS00123'``."""
    return _WHITESPACE.sub("", raw or "").upper()


class Member(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        DORMANT = "dormant", "Dormant"
        SUSPENDED = "suspended", "Suspended"
        EXITED = "exited", "Exited"

    number = models.CharField(
        "member number",
        max_length=MEMBER_NUMBER_MAX,
        unique=True,
        help_text="What members type as the M-Pesa account number. Stored normalised: upper "
        "case, no spaces (' ns 00123' is NS00123).",
    )
    name = models.CharField(max_length=150)
    status = models.CharField(
        max_length=10,
        choices=Status.choices,
        default=Status.ACTIVE,
        db_index=True,
        help_text="Only active members pass the 'account must be an active member' validation "
        "rule; payments to any member are still matched.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number} {self.name}"

    def save(self, *args, **kwargs) -> None:
        self.number = member_number_normalise(self.number)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        self.number = member_number_normalise(self.number)
        if not self.number:
            raise ValidationError({"number": "The member number is empty."})

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.split() else ""


class MemberPhone(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(
        max_length=12, help_text="Kenyan mobile in the 2547XXXXXXXX form (0712… is accepted)."
    )
    sha256 = models.CharField(
        max_length=64,
        db_index=True,
        editable=False,
        help_text="SHA-256 of the number, to match hashed MSISDNs in one indexed query.",
    )
    position = models.PositiveSmallIntegerField(
        default=0, help_text="0 is the member's main number, used for receipts."
    )

    class Meta:
        ordering = ["member", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["member", "number"], name="member_phone_unique")
        ]

    def __str__(self) -> str:
        return phone_mask(self.number)

    def save(self, *args, **kwargs) -> None:
        self.number = phone_normalise(self.number) or self.number
        self.sha256 = phone_hash(self.number)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        normalised = phone_normalise(self.number)
        if normalised is None:
            raise ValidationError({"number": "Not a Kenyan mobile number (e.g. 0712345678)."})
        self.number = normalised


class MemberMatch(models.Model):
    """How one payment was tied to a member, or that it could not be."""

    class Rule(models.TextChoices):
        ACCOUNT_AND_PHONE = "account+phone", "Account number, confirmed by the payer's phone"
        ACCOUNT_AND_MASKED = (
            "account+masked",
            "Account number, consistent with the masked phone's visible digits",
        )
        ACCOUNT = "account", "Account number only"
        PHONE = "phone", "Payer's phone (the account number matched no member)"
        MANUAL = "manual", "Set by staff"
        NONE = "none", "Unmatched"

    payment = models.OneToOneField(
        "c2b.Payment", on_delete=models.CASCADE, related_name="member_match"
    )
    member = models.ForeignKey(
        Member,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="payment_matches",
        help_text="Empty when the payment is unmatched.",
    )
    rule = models.CharField(max_length=16, choices=Rule.choices, db_index=True)
    account_normalised = models.CharField(
        # As long as the BillRefNumber it is made from.
        max_length=FIELD_BY_ATTR["bill_ref_number"].max_length,
        blank=True,
        help_text="The BillRefNumber as compared with member numbers.",
    )
    note = models.CharField(max_length=255, blank=True, help_text="Anything staff should check.")
    matched_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-matched_at", "-id"]

    def __str__(self) -> str:
        who = self.member.number if self.member_id else "unmatched"
        return f"{self.payment_id} → {who} ({self.rule})"

    @property
    def is_matched(self) -> bool:
        return self.member_id is not None
