"""Reads for the staff pages, shaped to stay fast at millions of payments.

Lists use keyset ("seek") pagination on (trans_time, trans_id), which the index created in
``staff/migrations/0001`` serves directly: page 20,000 costs what page 1 costs. Totals for a
filtered set are one aggregate query, cached briefly under the filter's canonical query string.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from c2b.models import CallbackReceipt, Payment, Shortcode, ValidationDecision
from c2b.selectors import payments_filter
from capture.selectors import CaptureBacklog, capture_backlog
from core.eat import EAT, eat_midnight
from members.models import MemberMatch
from members.selectors import member_match_for_payment, payments_matched_q, payments_of_members_q
from reconciliation.models import DarajaResult, ReconciliationItem, StatusCheck
from reconciliation.selectors import (
    ShortcodeReconciliation,
    daraja_results_failed,
    items_to_review,
    latest_item_for,
    reconciliation_health,
    status_checks_for,
)
from sms.models import OutboundSms
from sms.selectors import payments_with_failed_sms_q, sms_failed, sms_for_payment
from staff.forms import PaymentFilter

_PHONE = re.compile(r"^(?:\+?254|0)(7\d{8}|1\d{8})$")
_CURSOR = re.compile(r"^([on])(\d{1,17})-([A-Za-z0-9]{1,32})$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --- the filtered set ------------------------------------------------------------------------


def payments_for(flt: PaymentFilter) -> QuerySet[Payment]:
    payments = payments_filter(
        since=flt.since_moment, until=flt.until_moment, shortcode=flt.shortcode or None
    )
    if flt.min_amount is not None:
        payments = payments.filter(amount__gte=flt.min_amount)
    if flt.max_amount is not None:
        payments = payments.filter(amount__lte=flt.max_amount)
    if flt.q:
        payments = payments.filter(_search_q(flt.q))
    if flt.member:
        matched = payments_matched_q()
        payments = payments.filter(matched if flt.member == "matched" else ~matched)
    if flt.attention:
        payments = payments.filter(_attention_q())
    return payments


def _search_q(text: str) -> Q:
    """Receipt (exact), account (prefix), MSISDN as received (exact, or the hash of a typed
    phone number), payer names (every word of 3+ letters in some name), member number or name.

    Each branch has an index (see the staff migration), so PostgreSQL combines them with a
    bitmap OR instead of scanning the table.
    """
    condition = Q(trans_id=text.upper()) | Q(bill_ref_number__istartswith=text) | Q(msisdn=text)
    phone = _PHONE.match(re.sub(r"[\s-]", "", text))
    if phone:
        full = "254" + phone.group(1)
        condition |= Q(msisdn=full) | Q(msisdn=hashlib.sha256(full.encode()).hexdigest())
    words = text.split()
    if words and all(len(word) >= 3 for word in words):
        names = Q()
        for word in words:
            names &= (
                Q(first_name__icontains=word)
                | Q(middle_name__icontains=word)
                | Q(last_name__icontains=word)
            )
        condition |= names
    member = payments_of_members_q(text)
    if member is not None:
        condition |= member
    return condition


def _attention_q() -> Q:
    """Payments someone should look at: a conflicting redelivery, a failed SMS, no member."""
    conflict = Exists(
        CallbackReceipt.objects.filter(
            payment=OuterRef("pk"), status=CallbackReceipt.Status.CONFLICT
        )
    )
    return Q(conflict) | payments_with_failed_sms_q() | ~payments_matched_q()


# --- keyset pages ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """A position in the newest-first list: the rows ``older`` or ``newer`` than one row."""

    older: bool
    trans_time: datetime
    trans_id: str

    def encode(self) -> str:
        micros = (self.trans_time - _EPOCH) // timedelta(microseconds=1)
        return f"{'o' if self.older else 'n'}{micros}-{self.trans_id}"

    @classmethod
    def decode(cls, text: str) -> Cursor | None:
        found = _CURSOR.match(text or "")
        if not found:
            return None
        try:
            moment = _EPOCH + timedelta(microseconds=int(found.group(2)))
        except OverflowError:
            return None
        return cls(older=found.group(1) == "o", trans_time=moment, trans_id=found.group(3))


@dataclass
class Page:
    rows: list[Payment]
    older: str | None = None
    newer: str | None = None
    is_first: bool = True


def payments_page(payments: QuerySet[Payment], *, cursor: Cursor | None, size: int) -> Page:
    if cursor is None:
        rows = list(payments.order_by("-trans_time", "-trans_id")[: size + 1])
        has_older, has_newer = len(rows) > size, False
        rows = rows[:size]
    elif cursor.older:
        rows = list(
            payments.filter(trans_time__lte=cursor.trans_time)
            .filter(
                Q(trans_time__lt=cursor.trans_time)
                | Q(trans_time=cursor.trans_time, trans_id__lt=cursor.trans_id)
            )
            .order_by("-trans_time", "-trans_id")[: size + 1]
        )
        has_older, has_newer = len(rows) > size, True
        rows = rows[:size]
    else:
        rows = list(
            payments.filter(trans_time__gte=cursor.trans_time)
            .filter(
                Q(trans_time__gt=cursor.trans_time)
                | Q(trans_time=cursor.trans_time, trans_id__gt=cursor.trans_id)
            )
            .order_by("trans_time", "trans_id")[: size + 1]
        )
        has_older, has_newer = True, len(rows) > size
        rows = list(reversed(rows[:size]))
    page = Page(rows=rows, is_first=not has_newer)
    if rows and has_older:
        page.older = Cursor(True, rows[-1].trans_time, rows[-1].trans_id).encode()
    if rows and has_newer:
        page.newer = Cursor(False, rows[0].trans_time, rows[0].trans_id).encode()
    return page


# --- totals ----------------------------------------------------------------------------------
# COUNT(*) rather than COUNT(id): the time indexes INCLUDE amount, so PostgreSQL answers the
# totals of a date range from the index alone, without visiting the table.


@dataclass(frozen=True)
class Totals:
    count: int
    amount: Decimal


def _aggregate(payments: QuerySet[Payment]) -> Totals:
    result = payments.order_by().aggregate(count=Count("*"), amount=Sum("amount"))
    return Totals(count=result["count"] or 0, amount=result["amount"] or Decimal("0"))


def payments_totals(flt: PaymentFilter, payments: QuerySet[Payment] | None = None) -> Totals:
    """Count and sum of the filtered set (``payments``, if already built from ``flt``), reused
    for ``STAFF_TOTALS_CACHE_SECONDS``."""
    key = "staff:totals:" + hashlib.sha256(flt.querystring().encode()).hexdigest()
    cached = cache.get(key)
    if cached is not None:
        return Totals(count=cached[0], amount=Decimal(cached[1]))
    totals = _aggregate(payments if payments is not None else payments_for(flt))
    cache.set(key, (totals.count, str(totals.amount)), settings.STAFF_TOTALS_CACHE_SECONDS)
    return totals


# --- one payment -----------------------------------------------------------------------------


@dataclass
class PaymentDetail:
    trans_id: str
    payment: Payment | None
    receipts: list[CallbackReceipt]
    decisions: list[ValidationDecision]
    member_match: MemberMatch | None = None
    sms: OutboundSms | None = None
    reconciliation: ReconciliationItem | None = None
    status_checks: list[StatusCheck] = field(default_factory=list)


def payment_detail(*, trans_id: str) -> PaymentDetail | None:
    """The payment, every callback that named its TransID, and what M-Pesa's records said of
    it; ``None`` if nothing we hold names the receipt."""
    trans_id = trans_id.upper()
    payment = Payment.objects.select_related("shortcode", "validation").filter(trans_id=trans_id)
    payment = payment.first()
    receipts = CallbackReceipt.objects.filter(trans_id=trans_id)
    if payment is not None:
        receipts = CallbackReceipt.objects.filter(Q(trans_id=trans_id) | Q(payment=payment))
    receipts_list = list(receipts.select_related("validation_decision").order_by("received_at"))
    finding = latest_item_for(trans_id=trans_id)
    checks = status_checks_for(trans_id=trans_id)
    if payment is None and not receipts_list and finding is None and not checks:
        return None
    decisions = list(ValidationDecision.objects.filter(trans_id=trans_id).order_by("decided_at"))
    detail = PaymentDetail(
        trans_id=trans_id,
        payment=payment,
        receipts=receipts_list,
        decisions=decisions,
        reconciliation=finding,
        status_checks=checks,
    )
    if payment is not None:
        detail.member_match = member_match_for_payment(payment_id=payment.pk)
        detail.sms = sms_for_payment(payment_id=payment.pk)
    return detail


# --- dashboard -------------------------------------------------------------------------------


@dataclass
class DayTotal:
    day: date
    count: int
    amount: Decimal


@dataclass
class ShortcodeHealth:
    shortcode: Shortcode
    today: Totals
    month: Totals
    last_received_at: datetime | None
    silent_minutes: int
    warning: bool


@dataclass
class Dashboard:
    now: datetime
    today: Totals
    month: Totals
    days: list[DayTotal]
    shortcodes: list[ShortcodeHealth]
    capture: CaptureBacklog
    reconciliation: list[ShortcodeReconciliation]


def daily_totals(*, last_day: date, days: int) -> list[DayTotal]:
    """Totals per EAT calendar day, oldest first, zero-filled."""
    first_day = last_day - timedelta(days=days - 1)
    rows = (
        Payment.objects.filter(
            trans_time__gte=eat_midnight(first_day),
            trans_time__lt=eat_midnight(last_day + timedelta(days=1)),
        )
        .annotate(day=TruncDate("trans_time", tzinfo=EAT))
        .order_by()
        .values("day")
        .annotate(count=Count("*"), amount=Sum("amount"))
    )
    found = {row["day"]: row for row in rows}
    result = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        row = found.get(day)
        result.append(
            DayTotal(day, row["count"], row["amount"]) if row else DayTotal(day, 0, Decimal("0"))
        )
    return result


def business_minutes_between(start: datetime, end: datetime) -> int:
    """Minutes of ``[start, end)`` that fall in business hours (EAT)."""
    if end <= start:
        return 0
    opens, closes = settings.STAFF_BUSINESS_HOURS
    start_eat, end_eat = start.astimezone(EAT), end.astimezone(EAT)
    total = timedelta()
    day = start_eat.date()
    # A month of silence is already far past any sensible threshold.
    first = max(day, end_eat.date() - timedelta(days=31))
    day = first
    while day <= end_eat.date():
        if day.weekday() in settings.STAFF_BUSINESS_DAYS:
            window_start = datetime.combine(day, opens, tzinfo=EAT)
            window_end = datetime.combine(day, closes, tzinfo=EAT)
            overlap = min(window_end, end_eat) - max(window_start, start_eat)
            if overlap > timedelta():
                total += overlap
        day += timedelta(days=1)
    return int(total.total_seconds() // 60)


def _by_shortcode(since: datetime, until: datetime) -> dict[str, Totals]:
    """Totals per shortcode number; one index-only scan of the time index (it carries both)."""
    rows = (
        Payment.objects.filter(trans_time__gte=since, trans_time__lt=until)
        .order_by()
        .values("business_short_code")
        .annotate(count=Count("*"), amount=Sum("amount"))
    )
    return {
        row["business_short_code"]: Totals(row["count"], row["amount"] or Decimal("0"))
        for row in rows
    }


def dashboard(*, now: datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    today = now.astimezone(EAT).date()
    day_start = eat_midnight(today)
    day_end = eat_midnight(today + timedelta(days=1))
    month_start = eat_midnight(today.replace(day=1))
    next_month = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
    month_end = eat_midnight(next_month)

    key = f"staff:daily:{today.isoformat()}"
    days = cache.get(key)
    if days is None:
        days = daily_totals(last_day=today, days=30)
        cache.set(key, days, settings.STAFF_TOTALS_CACHE_SECONDS)

    today_by_code = _by_shortcode(day_start, day_end)
    month_by_code = _by_shortcode(month_start, month_end)
    zero = Totals(0, Decimal("0"))
    health = []
    threshold = settings.STAFF_SILENCE_WARNING_MINUTES
    for shortcode in Shortcode.objects.order_by("number"):
        # When we stored it, not the time the payer's side claims (staff migration 0002).
        last = (
            Payment.objects.filter(shortcode=shortcode)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        silent = business_minutes_between(last or shortcode.created_at, now)
        health.append(
            ShortcodeHealth(
                shortcode=shortcode,
                today=today_by_code.get(shortcode.number, zero),
                month=month_by_code.get(shortcode.number, zero),
                last_received_at=last,
                silent_minutes=silent,
                warning=shortcode.enabled and silent >= threshold,
            )
        )
    return Dashboard(
        now=now,
        today=_sum_totals(today_by_code.values()),
        month=_sum_totals(month_by_code.values()),
        days=days,
        shortcodes=health,
        capture=capture_backlog(),
        reconciliation=reconciliation_health(now=now),
    )


def _sum_totals(parts) -> Totals:
    parts = list(parts)
    return Totals(sum(p.count for p in parts), sum((p.amount for p in parts), Decimal("0")))


def _cached_count(name: str, queryset: QuerySet) -> int:
    key = f"staff:count:{name}"
    found = cache.get(key)
    if found is None:
        found = queryset.order_by().count()
        cache.set(key, found, settings.STAFF_TOTALS_CACHE_SECONDS)
    return found


# --- needs attention -------------------------------------------------------------------------


@dataclass
class Attention:
    failed: list[CallbackReceipt]
    failed_count: int
    conflicts: list[CallbackReceipt]
    conflict_count: int
    sms_failed: list[OutboundSms]
    sms_failed_count: int
    unmatched: list[Payment]
    unmatched_count: int
    findings: list[ReconciliationItem]
    findings_count: int
    daraja_failed: list[DarajaResult]
    daraja_failed_count: int


def attention(*, limit: int = 100, unmatched_limit: int = 20) -> Attention:
    """The newest ``limit`` of each kind of problem, with their counts. Unmatched payments are
    many and listed in full on the transactions page, so only the newest few are shown here."""
    # A validation still "received" a minute on was never answered (the database failed
    # between keeping it and deciding): M-Pesa applied the shortcode's default. Staff should know.
    unanswered = Q(
        kind=CallbackReceipt.Kind.VALIDATION,
        status=CallbackReceipt.Status.RECEIVED,
        received_at__lt=timezone.now() - timedelta(minutes=1),
    )
    failed = CallbackReceipt.objects.filter(Q(status=CallbackReceipt.Status.FAILED) | unanswered)
    conflicts = CallbackReceipt.objects.filter(status=CallbackReceipt.Status.CONFLICT)
    sms_count, sms_rows = sms_failed(limit=limit)
    findings_count, findings = items_to_review(limit=limit)
    daraja_failed_count, daraja_failed = daraja_results_failed(limit=limit)
    unmatched_qs = Payment.objects.filter(~payments_matched_q())
    return Attention(
        failed=list(failed.defer("body", "traceback").order_by("-received_at", "-id")[:limit]),
        failed_count=failed.count(),
        conflicts=list(
            conflicts.select_related("payment").defer("body").order_by("-received_at")[:limit]
        ),
        conflict_count=conflicts.count(),
        sms_failed=sms_rows,
        sms_failed_count=sms_count,
        unmatched=list(unmatched_qs.order_by("-trans_time", "-trans_id")[:unmatched_limit]),
        unmatched_count=_cached_count("unmatched", unmatched_qs),
        findings=findings,
        findings_count=findings_count,
        daraja_failed=daraja_failed,
        daraja_failed_count=daraja_failed_count,
    )
