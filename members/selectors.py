"""Reads about members and payment matches: for validation and for the staff pages."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Exists, OuterRef, Q

from members.models import Member, MemberMatch, member_number_normalise

# A member's payments are looked up by id; more than this many would make the query slow.
MEMBER_SEARCH_MAX_PAYMENTS = 10_000
MEMBER_SEARCH_MAX_MEMBERS = 50


def member_is_active_for_account(*, account: str) -> bool:
    """Whether ``account`` is an active member's number.

    Validation asks on every payment to a paybill that requires it, while the payer waits, so
    this is one statement written out once (the ORM's compilation cost more than the lookup),
    through the member number's unique index. Nothing is remembered: a member suspended or
    activated in the admin or by an import counts from the next payment on."""
    number = member_number_normalise(account)
    if not number:
        return False
    db = connections[DEFAULT_DB_ALIAS]
    with db.cursor() as cursor:
        cursor.execute(_active_member_sql(db.vendor), [number, Member.Status.ACTIVE.value])
        return cursor.fetchone() is not None


@cache
def _active_member_sql(vendor: str) -> str:
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    table = quote(Member._meta.db_table)
    number, status = (quote(Member._meta.get_field(name).column) for name in ("number", "status"))
    # Only the model's own names go into the text; the values are parameters.
    return f"SELECT 1 FROM {table} WHERE {number} = %s AND {status} = %s LIMIT 1"  # noqa: S608


def member_match_for_payment(*, payment_id: int) -> MemberMatch | None:
    """The payment's recorded match (with its member), or ``None`` if none was recorded."""
    return MemberMatch.objects.select_related("member").filter(payment_id=payment_id).first()


def member_matches_for(*, payment_ids: Iterable[int]) -> dict[int, MemberMatch]:
    """Matches for a page of payments, keyed by payment id, in one query."""
    matches = MemberMatch.objects.filter(payment_id__in=list(payment_ids)).select_related("member")
    return {match.payment_id: match for match in matches}


def payments_matched_q() -> Q:
    """Payments matched to a member (no match row, or one without a member, is unmatched;
    payments captured before matching existed have none)."""
    return Q(Exists(MemberMatch.objects.filter(payment=OuterRef("pk"), member__isnull=False)))


def payments_of_members_q(text: str) -> Q | None:
    """Payments matched to a member whose number is ``text`` or whose name contains it, or
    ``None`` when no member fits.

    The (small) member table is searched first and the payments are then named by id, which
    PostgreSQL can OR with other search conditions through indexes.
    """
    if len(text.strip()) < 2:
        return None
    members = Member.objects.filter(
        Q(number=member_number_normalise(text)) | Q(name__icontains=text.strip())
    ).values_list("pk", flat=True)[:MEMBER_SEARCH_MAX_MEMBERS]
    member_ids = list(members)
    if not member_ids:
        return None
    payment_ids = list(
        MemberMatch.objects.filter(member_id__in=member_ids)
        .order_by("-payment_id")
        .values_list("payment_id", flat=True)[:MEMBER_SEARCH_MAX_PAYMENTS]
    )
    return Q(pk__in=payment_ids) if payment_ids else None
