"""Reads: the queries other rooms build on."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from c2b.models import Payment


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
