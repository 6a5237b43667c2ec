"""Outbound SMS receipts, as rows a worker sends: an outbox written in the payment's transaction.

One ``OutboundSms`` per payment (a unique constraint), created in the same transaction as the
payment, so a rolled-back payment has no SMS and a redelivered one gets no second SMS. Workers
claim due rows, send them through the configured backend and record the outcome here; the
provider's delivery reports update them later.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from core.phones import phone_mask


class OutboundSms(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Being sent (claimed by a worker)"
        SENT = "sent", "Sent (accepted by the provider)"
        DELIVERED = "delivered", "Delivered to the phone"
        UNDELIVERED = "undelivered", "Not delivered (provider report)"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (no number to send to)"

    # Statuses staff see as a failure, and those that may be sent again (a skipped one may have
    # a number by now).
    FAILED_STATUSES = (Status.FAILED, Status.UNDELIVERED)
    RESENDABLE = (Status.FAILED, Status.UNDELIVERED, Status.SKIPPED)

    class RecipientSource(models.TextChoices):
        MSISDN = "msisdn", "Payer's number from M-Pesa"
        MEMBER = "member", "Matched member's phone"
        NONE = "none", "None"

    payment = models.OneToOneField(
        "c2b.Payment", on_delete=models.CASCADE, related_name="sms_receipt"
    )
    member = models.ForeignKey(
        "members.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recipient = models.CharField(
        max_length=12, blank=True, help_text="2547XXXXXXXX; empty when skipped."
    )
    recipient_source = models.CharField(max_length=8, choices=RecipientSource.choices)
    text = models.TextField()
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    reason = models.TextField(
        blank=True, help_text="Why it was skipped, is being retried or failed, in plain words."
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="When a queued message is due (retries back off)."
    )
    lease_expires_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="A 'sending' claim older than this belongs to a worker that died; another "
        "worker takes the message over.",
    )
    claimed_by = models.CharField(max_length=100, blank=True, help_text="host:pid of the worker.")
    backend = models.CharField(max_length=30, blank=True, help_text="Backend that sent it.")
    provider_message_id = models.CharField(max_length=100, blank=True, db_index=True)
    provider_status = models.CharField(max_length=50, blank=True)
    cost = models.CharField(max_length=30, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "outbound SMS"
        verbose_name_plural = "outbound SMS"
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                name="sms_due",
                condition=Q(status="queued"),
            ),
            models.Index(
                fields=["lease_expires_at"],
                name="sms_leased",
                condition=Q(status="sending"),
            ),
        ]

    def __str__(self) -> str:
        return f"SMS #{self.pk} to {phone_mask(self.recipient) or '-'} ({self.status})"

    @property
    def recipient_masked(self) -> str:
        """The recipient as staff may see it: ``2547*****678``."""
        return phone_mask(self.recipient) if self.recipient else "no number"

    @property
    def failed(self) -> bool:
        return self.status in self.FAILED_STATUSES

    @property
    def can_resend(self) -> bool:
        return self.status in self.RESENDABLE


class DeliveryReport(models.Model):
    """One delivery report the provider posted, kept as received."""

    sms = models.ForeignKey(
        OutboundSms,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="delivery_reports",
        help_text="Empty when no message has the provider's id.",
    )
    provider_message_id = models.CharField(max_length=100, db_index=True)
    status = models.CharField(max_length=30)
    failure_reason = models.CharField(max_length=100, blank=True)
    network_code = models.CharField(max_length=10, blank=True)
    phone_masked = models.CharField(max_length=20, blank=True)
    body = models.JSONField(default=dict, help_text="The form fields, phone number masked.")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.provider_message_id} {self.status}"
