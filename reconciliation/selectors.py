"""Reads about reconciliation, for the staff pages and the dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from c2b.models import Shortcode
from core.eat import EAT, eat_midnight
from reconciliation.models import (
    DarajaResult,
    PullSweep,
    ReconciliationItem,
    ReconciliationRun,
    StatementImport,
    StatusCheck,
)

Outcome = ReconciliationItem.Outcome
# How far back the dashboard counts unreconciled days.
UNRECONCILED_HORIZON_DAYS = 366


def statements_recent(*, limit: int = 20) -> list[StatementImport]:
    return list(StatementImport.objects.select_related("shortcode")[:limit])


def runs_recent(*, limit: int = 20) -> list[ReconciliationRun]:
    return list(ReconciliationRun.objects.select_related("shortcode")[:limit])


def pull_sweeps_recent(*, limit: int = 20) -> list[PullSweep]:
    return list(PullSweep.objects.select_related("shortcode")[:limit])


@dataclass(frozen=True)
class OutcomeTotal:
    outcome: str
    label: str
    count: int
    amount: Decimal


def run_outcomes(run: ReconciliationRun) -> list[OutcomeTotal]:
    """Each outcome of a run, with its receipts and shillings, in a fixed order."""
    return [
        OutcomeTotal(
            outcome.value,
            outcome.label,
            run.counts.get(outcome.value, 0),
            Decimal(run.amounts.get(outcome.value, "0")),
        )
        for outcome in Outcome
    ]


def run_items(
    run: ReconciliationRun, *, outcome: str = "", limit: int = 500
) -> QuerySet[ReconciliationItem]:
    items = run.items.select_related("shortcode").order_by("trans_time", "trans_id")
    return (items.filter(outcome=outcome) if outcome else items)[:limit]


def _latest_of_their_receipt() -> Exists:
    """Items no later run has judged again (a missing payment later backfilled is done)."""
    return ~Exists(
        ReconciliationItem.objects.filter(
            trans_id=OuterRef("trans_id"), run_id__gt=OuterRef("run_id")
        )
    )


def items_to_review(*, limit: int = 100) -> tuple[int, list[ReconciliationItem]]:
    """Findings staff should look at (missing, unconfirmed, mismatch, reversed) that nobody
    has reviewed and no later run has judged again: how many, and the newest ``limit``."""
    items = ReconciliationItem.objects.filter(
        _latest_of_their_receipt(),
        outcome__in=ReconciliationItem.NEEDS_REVIEW,
        reviewed_at__isnull=True,
    )
    rows = items.select_related("shortcode").order_by("-trans_time", "-id")[:limit]
    return items.count(), list(rows)


def status_checks_for(*, trans_id: str, limit: int = 5) -> list[StatusCheck]:
    return list(StatusCheck.objects.filter(trans_id=trans_id.upper())[:limit])


def daraja_results_failed(*, limit: int = 50) -> tuple[int, list[DarajaResult]]:
    failed = DarajaResult.objects.filter(status=DarajaResult.Status.FAILED)
    return failed.count(), list(failed.defer("body")[:limit])


def latest_item_for(*, trans_id: str) -> ReconciliationItem | None:
    return (
        ReconciliationItem.objects.filter(trans_id=trans_id.upper())
        .select_related("run")
        .order_by("-run_id")
        .first()
    )


@dataclass(frozen=True)
class ShortcodeReconciliation:
    shortcode: Shortcode
    last_run: ReconciliationRun | None
    unreconciled_days: int
    since: date | None  # the first of those days


def reconciliation_health(*, now: datetime | None = None) -> list[ShortcodeReconciliation]:
    """Per shortcode: the last finished reconciliation, and how many whole EAT days up to
    yesterday no finished run has compared against a covering statement (counted over the last
    ``UNRECONCILED_HORIZON_DAYS`` days, from when the shortcode was added)."""
    now = now or timezone.now()
    yesterday = now.astimezone(EAT).date() - timedelta(days=1)
    health = []
    for shortcode in Shortcode.objects.order_by("number"):
        runs = ReconciliationRun.objects.filter(status=ReconciliationRun.Status.FINISHED).filter(
            _run_of(shortcode)
        )
        covered = _days_covered(shortcode.number, runs.values_list("covered", flat=True)[:500])
        first = max(
            shortcode.created_at.astimezone(EAT).date(),
            yesterday - timedelta(days=UNRECONCILED_HORIZON_DAYS - 1),
        )
        missing = [
            first + timedelta(days=n)
            for n in range((yesterday - first).days + 1)
            if first + timedelta(days=n) not in covered
        ]
        health.append(
            ShortcodeReconciliation(
                shortcode=shortcode,
                last_run=runs.order_by("-finished_at").first(),
                unreconciled_days=len(missing),
                since=missing[0] if missing else None,
            )
        )
    return health


def _run_of(shortcode: Shortcode) -> Q:
    return Q(shortcode=shortcode) | Q(shortcode__isnull=True)


def _days_covered(number: str, coverages) -> set[date]:
    """EAT days wholly inside the periods the runs compared for shortcode ``number``."""
    days: set[date] = set()
    second = timedelta(seconds=1)
    for covered in coverages:
        for code, start_text, end_text in covered:
            if code != number:
                continue
            start, end = datetime.fromisoformat(start_text), datetime.fromisoformat(end_text)
            day = start.astimezone(EAT).date()
            if eat_midnight(day) < start:
                day += timedelta(days=1)
            while eat_midnight(day + timedelta(days=1)) - second <= end:
                days.add(day)
                day += timedelta(days=1)
    return days
