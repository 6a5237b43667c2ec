"""Reads about capture's inbox: the confirmations answered but not yet turned into payments."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Min, QuerySet
from django.utils import timezone

from c2b.models import CallbackReceipt

# Confirmations waiting longer than this mean no capture worker is running, or it is not keeping
# up: a running worker keeps the oldest under 10 s even under sustained load (its pacing stops
# resting at C2B_CAPTURE_CATCH_UP_SECONDS; docs/decisions.md #18), so twice that is late, and
# /healthz and the dashboard say so within seconds, not minutes.
CAPTURE_LATE_AFTER = timedelta(seconds=20)


@dataclass(frozen=True)
class CaptureBacklog:
    """Confirmations M-Pesa delivered and we answered, not yet turned into payments."""

    waiting: int
    oldest: datetime | None

    @property
    def oldest_seconds(self) -> int:
        return int((timezone.now() - self.oldest).total_seconds()) if self.oldest else 0

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
