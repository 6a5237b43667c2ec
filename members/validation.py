"""The member registry's validation rule: a paybill may accept only active members' accounts.

Registered with the ledger's validation rules at startup (``MembersConfig.ready``).
"""

from __future__ import annotations

from c2b.models import Shortcode
from c2b.payloads import C2BPayload
from c2b.services.validation_rules import Rejection
from members.selectors import member_is_active_for_account


def account_is_active_member(shortcode: Shortcode, payload: C2BPayload) -> Rejection | None:
    if shortcode.kind != Shortcode.Kind.PAYBILL or not shortcode.require_active_member:
        return None
    if member_is_active_for_account(account=payload.bill_ref_number):
        return None
    return Rejection(
        "C2B00012", f"Account {payload.bill_ref_number!r} is not an active member's number."
    )
