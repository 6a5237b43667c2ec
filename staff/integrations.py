"""The staff app's one contact point with the member registry (``members``) and SMS (``sms``).

Both apps are optional to this one: when either is not installed every function here answers
"not available" (``None`` or empty) and the pages say so, instead of failing. Their modules are
imported inside the functions for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import NoReverseMatch, reverse

from c2b.models import Payment

# A member's payments are looked up by id; more than this many would make the query slow.
MEMBER_SEARCH_MAX_PAYMENTS = 10_000
MEMBER_SEARCH_MAX_MEMBERS = 50


@dataclass(frozen=True)
class MemberMatch:
    matched: bool
    member_number: str
    member_name: str
    rule: str
    note: str = ""
    url: str = ""


@dataclass(frozen=True)
class SmsStatus:
    id: int
    status: str
    status_label: str
    detail: str
    to: str
    updated_at: datetime | None
    failed: bool
    can_resend: bool
    payment_trans_id: str = ""


class SmsResendError(Exception):
    """The SMS cannot be sent again; the message says why."""


def members_available() -> bool:
    return apps.is_installed("members")


def sms_available() -> bool:
    return apps.is_installed("sms")


# --- members ---------------------------------------------------------------------------------


def _matched_exists() -> Exists:
    from members.models import MemberMatch as Match

    return Exists(Match.objects.filter(payment=OuterRef("pk"), member__isnull=False))


def matched_q() -> Q | None:
    """Payments matched to a member (no match row, or one without a member, is unmatched)."""
    return Q(_matched_exists()) if members_available() else None


def member_search_q(text: str) -> Q | None:
    """Payments matched to a member whose number is ``text`` or whose name contains it.

    The (small) member table is searched first and the payments are then named by id, which
    PostgreSQL can OR with the other search branches through indexes.
    """
    if not members_available() or len(text.strip()) < 2:
        return None
    from members.models import Member, member_number_normalise
    from members.models import MemberMatch as Match

    members = Member.objects.filter(
        Q(number=member_number_normalise(text)) | Q(name__icontains=text.strip())
    ).values_list("pk", flat=True)[:MEMBER_SEARCH_MAX_MEMBERS]
    member_ids = list(members)
    if not member_ids:
        return None
    payment_ids = list(
        Match.objects.filter(member_id__in=member_ids)
        .order_by("-payment_id")
        .values_list("payment_id", flat=True)[:MEMBER_SEARCH_MAX_PAYMENTS]
    )
    return Q(pk__in=payment_ids) if payment_ids else None


def payment_member_match(payment: Payment) -> MemberMatch | None:
    """The recorded match; ``None`` if members are not installed or nothing was recorded."""
    if not members_available():
        return None
    from members.selectors import member_match_for_payment

    match = member_match_for_payment(payment)
    if match is None:
        return None
    member = match.member
    url = ""
    if member is not None:
        try:
            url = reverse("admin:members_member_change", args=[member.pk])
        except NoReverseMatch:
            url = ""
    return MemberMatch(
        matched=member is not None,
        member_number=member.number if member else "",
        member_name=member.name if member else "",
        rule=match.get_rule_display(),
        note=match.note,
        url=url,
    )


def members_for_payments(payments: list[Payment]) -> dict[int, MemberMatch]:
    """Matches for a page of payments, keyed by payment id, in one query."""
    if not members_available() or not payments:
        return {}
    from members.models import MemberMatch as Match

    matches = Match.objects.filter(payment_id__in=[p.pk for p in payments]).select_related("member")
    return {
        match.payment_id: MemberMatch(
            matched=match.member is not None,
            member_number=match.member.number if match.member else "",
            member_name=match.member.name if match.member else "",
            rule=match.get_rule_display(),
            note=match.note,
        )
        for match in matches
    }


def unmatched_payments() -> QuerySet[Payment] | None:
    if not members_available():
        return None
    return Payment.objects.filter(~Q(_matched_exists()))


# --- SMS -------------------------------------------------------------------------------------

_FAILED = ("failed", "undelivered")
_RESENDABLE = ("failed", "undelivered", "skipped")


def _sms_status(sms) -> SmsStatus:
    from members.phones import phone_mask

    return SmsStatus(
        id=sms.pk,
        status=sms.status,
        status_label=sms.get_status_display(),
        detail=sms.reason,
        to=phone_mask(sms.recipient) if sms.recipient else "no number",
        updated_at=sms.updated_at,
        failed=sms.status in _FAILED,
        can_resend=sms.status in _RESENDABLE,
        payment_trans_id=sms.payment.trans_id if sms.payment_id else "",
    )


def payment_sms(payment: Payment) -> list[SmsStatus]:
    if not sms_available():
        return []
    from sms.models import OutboundSms

    return [
        _sms_status(sms)
        for sms in OutboundSms.objects.filter(payment=payment).select_related("payment")
    ]


def failed_sms_q() -> Q | None:
    """Payments whose SMS receipt failed or was not delivered."""
    if not sms_available():
        return None
    from sms.models import OutboundSms

    return Q(Exists(OutboundSms.objects.filter(payment=OuterRef("pk"), status__in=_FAILED)))


def failed_sms(limit: int) -> tuple[int, list[SmsStatus]]:
    if not sms_available():
        return 0, []
    from sms.models import OutboundSms

    failed = OutboundSms.objects.filter(status__in=_FAILED)
    rows = failed.select_related("payment").order_by("-updated_at", "-id")[:limit]
    return failed.count(), [_sms_status(sms) for sms in rows]


def sms_resend(sms_id: int) -> str:
    """Queue one SMS again through the SMS app's own service."""
    if not sms_available():
        raise SmsResendError("SMS receipts are not installed in this deployment.")
    from sms.models import OutboundSms
    from sms.services import sms_requeue

    message = OutboundSms.objects.filter(pk=sms_id).first()
    if message is None:
        raise SmsResendError(f"There is no SMS #{sms_id}.")
    if message.status not in _RESENDABLE:
        raise SmsResendError(
            f"SMS #{sms_id} is {message.get_status_display().lower()}; only failed, undelivered "
            "or skipped messages are sent again."
        )
    if sms_requeue(messages=OutboundSms.objects.filter(pk=sms_id)) == 0:
        message.refresh_from_db()
        raise SmsResendError(f"SMS #{sms_id} was not queued again: {message.reason}")
    return f"SMS #{sms_id} queued again; the SMS worker will send it shortly."
