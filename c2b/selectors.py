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

# Validation's copy of the shortcode table in this process, and when it was read (_clock()).
SHORTCODE_RULES_SECONDS = 1.0
_rules: dict[str, Shortcode] = {}
_rules_read_at: float | None = None
_clock = time.monotonic


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


def shortcode_rules(number: str) -> Shortcode | None:
    """The shortcode with this number as validation applies it, or ``None`` if there is none.

    Every validation asks, and the payer's phone waits for the answer, so each process keeps a
    copy of the whole (small) shortcode table and reads it again once it is
    ``SHORTCODE_RULES_SECONDS`` old: a change made anywhere (the admin in another web process,
    ``manage.py shortcode``, another host, plain SQL) applies everywhere within a second, with
    no signal that would have to reach every process. A number the copy lacks is read again at
    once, so a shortcode added a moment ago is known immediately. The objects are shared by
    every request of the process: read them, never change them.
    """
    global _rules, _rules_read_at
    now = _clock()
    stale = _rules_read_at is None or now - _rules_read_at >= SHORTCODE_RULES_SECONDS
    if stale or number not in _rules:
        _rules = {shortcode.number: shortcode for shortcode in Shortcode.objects.all()}
        _rules_read_at = now
    return _rules.get(number)


def known_shortcodes_forget(**kwargs) -> None:
    """Forget every remembered answer and copy (connected to shortcode saves and deletes, which
    so take effect at once in the process that makes them)."""
    global _rules_read_at
    _known_shortcodes.clear()
    _rules_read_at = None


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
