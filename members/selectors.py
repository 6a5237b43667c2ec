"""Reads about members and payment matches, for validation, SMS and the staff app."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from c2b.models import Payment
from members.models import Member, MemberMatch, member_number_normalise


def member_by_account(*, account: str) -> Member | None:
    """The member whose number is this account number once normalised (one indexed query)."""
    number = member_number_normalise(account)
    if not number:
        return None
    return Member.objects.filter(number=number).first()


def member_is_active_for_account(*, account: str) -> bool:
    return Member.objects.filter(
        number=member_number_normalise(account), status=Member.Status.ACTIVE
    ).exists()


def member_match_for_payment(payment: Payment) -> MemberMatch | None:
    return MemberMatch.objects.select_related("member").filter(payment=payment).first()


def payments_by_member_match(
    *, payments: QuerySet[Payment] | None = None, matched: bool | None = None, search: str = ""
) -> QuerySet[Payment]:
    """Payments narrowed to matched (``True``) or unmatched (``False``) ones, and/or to members
    whose number or name contains ``search``. Payments captured before matching existed have no
    ``MemberMatch`` row and count as unmatched."""
    payments = Payment.objects.all() if payments is None else payments
    payments = payments.select_related("member_match__member")
    if matched is True:
        payments = payments.filter(member_match__member__isnull=False)
    elif matched is False:
        payments = payments.filter(member_match__member__isnull=True)
    if search.strip():
        term = search.strip()
        payments = payments.filter(
            Q(member_match__member__number__icontains=member_number_normalise(term))
            | Q(member_match__member__name__icontains=term)
        )
    return payments
