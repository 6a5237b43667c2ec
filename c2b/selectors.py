"""Reads: the queries other rooms build on."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Min, QuerySet
from django.utils import timezone

from c2b.models import CallbackReceipt, Payment, Shortcode

# Confirmations waiting longer than this mean no capture worker is running (or keeping up).
CAPTURE_LATE_AFTER = timedelta(minutes=1)

# Shortcode numbers this process has seen in the database, with when (time.monotonic()).
_known_shortcodes: dict[str, float] = {}
KNOWN_SHORTCODE_SECONDS = 60.0


def shortcode_is_known(number: str) -> bool:
    """Whether a shortcode with this number is configured, enabled or not.

    Every confirmation asks, so a yes is remembered in this process for a minute; a no is never
    remembered, so a shortcode added a moment ago counts at once. Removing a shortcode is rare
    (its payments protect it) and forgets every answer in the process that removes it; in other
    processes a removed shortcode is believed for at most a minute, after which the capture
    worker still refuses its confirmations with the same reason.
    """
    now = time.monotonic()
    seen = _known_shortcodes.get(number)
    if seen is not None and now - seen < KNOWN_SHORTCODE_SECONDS:
        return True
    if Shortcode.objects.filter(number=number).exists():
        _known_shortcodes[number] = now
        return True
    return False


def known_shortcodes_forget(**kwargs) -> None:
    """Forget every remembered answer (connected to shortcode saves and deletes)."""
    _known_shortcodes.clear()


def payments_filter(
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    shortcode: str | None = None,
) -> QuerySet[Payment]:
    """Payments with ``since <= trans_time < until`` on the given shortcode number."""
    payments = Payment.objects.all()
    if since is not None:
        payments = payments.filter(trans_time__gte=since)
    if until is not None:
        payments = payments.filter(trans_time__lt=until)
    if shortcode:
        payments = payments.filter(business_short_code=shortcode)
    return payments


@dataclass(frozen=True)
class CaptureBacklog:
    """Confirmations M-Pesa delivered and we answered, not yet turned into payments."""

    waiting: int
    oldest: datetime | None

    @property
    def oldest_seconds(self) -> int:
        return int((timezone.now() - self.oldest).total_seconds()) if self.oldest else 0

    @property
    def oldest_minutes(self) -> int:
        return self.oldest_seconds // 60

    @property
    def late(self) -> bool:
        return self.oldest is not None and timezone.now() - self.oldest > CAPTURE_LATE_AFTER


def capture_queue() -> QuerySet[CallbackReceipt]:
    """Confirmations answered but not captured yet, oldest first (its own small index)."""
    return CallbackReceipt.objects.filter(
        kind=CallbackReceipt.Kind.CONFIRMATION, status=CallbackReceipt.Status.RECEIVED
    ).order_by("id")


def capture_backlog() -> CaptureBacklog:
    """How many confirmations wait for capture, and since when: one query."""
    row = capture_queue().order_by().aggregate(waiting=Count("id"), oldest=Min("received_at"))
    return CaptureBacklog(waiting=row["waiting"], oldest=row["oldest"])
