"""Reads about the ledger: shortcodes, payments and validation decisions."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import datetime

from django.db.models import QuerySet

from c2b.models import Payment, Shortcode, ValidationDecision

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


def validation_decisions_for(trans_ids: Iterable[str]) -> dict[str, ValidationDecision]:
    """The decision each TransID's payment is linked to: the accepting one, else the latest."""
    best: dict[str, ValidationDecision] = {}
    trans_ids = list(trans_ids)
    if not trans_ids:
        return best
    for decision in ValidationDecision.objects.filter(trans_id__in=trans_ids).order_by(
        "-accepted", "-decided_at", "-id"
    ):
        best.setdefault(decision.trans_id, decision)
    return best
