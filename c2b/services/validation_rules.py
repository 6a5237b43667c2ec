"""The shortcode's rules for accepting a payment at validation time.

They never apply to confirmations: by then the money has moved and must be recorded.
Each rule returns a ``Rejection`` with the official code that decides what SMS M-Pesa sends the
customer, or ``None`` to let the next rule decide. The ledger's own rules (amount limits, account
pattern) are here; rooms above it add theirs at startup with ``validation_rule_register`` (the
member registry adds "the account must be an active member's"), so this room asks nobody.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

from c2b.models import Shortcode
from c2b.payloads import C2BPayload


class Rejection(NamedTuple):
    code: str
    reason: str


Rule = Callable[[Shortcode, C2BPayload], Rejection | None]


def _amount_within_limits(shortcode: Shortcode, payload: C2BPayload) -> Rejection | None:
    if shortcode.min_amount is not None and payload.amount < shortcode.min_amount:
        return Rejection("C2B00013", f"Amount {payload.amount} is below {shortcode.min_amount}.")
    if shortcode.max_amount is not None and payload.amount > shortcode.max_amount:
        return Rejection("C2B00013", f"Amount {payload.amount} is above {shortcode.max_amount}.")
    return None


def _account_matches_pattern(shortcode: Shortcode, payload: C2BPayload) -> Rejection | None:
    if shortcode.kind != Shortcode.Kind.PAYBILL or not shortcode.account_pattern:
        return None
    if re.fullmatch(shortcode.account_pattern, payload.bill_ref_number):
        return None
    return Rejection(
        "C2B00012",
        f"Account number {payload.bill_ref_number!r} does not match {shortcode.account_pattern!r}.",
    )


RULES: list[Rule] = [_amount_within_limits, _account_matches_pattern]


def validation_rule_register(rule: Rule) -> None:
    """Apply ``rule`` after the others (once, however often it is registered)."""
    if rule not in RULES:
        RULES.append(rule)


def validation_check(*, shortcode: Shortcode | None, payload: C2BPayload) -> Rejection | None:
    if shortcode is None:
        return Rejection("C2B00015", f"Unknown shortcode {payload.business_short_code}.")
    if not shortcode.enabled:
        return Rejection("C2B00015", f"Shortcode {shortcode.number} is disabled.")
    for rule in RULES:
        rejection = rule(shortcode, payload)
        if rejection is not None:
            return rejection
    return None
