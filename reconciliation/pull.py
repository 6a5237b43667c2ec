"""The Pull Transactions sweep: M-Pesa's list of the last hours' payments, checked by receipt.

Meant for a schedule (every few hours; docs/operations.md has a systemd timer and a cron line).
Each sweep asks Daraja for every page of its window (at most the 48 hours Daraja serves), looks
each listed receipt up in the ledger and backfills those missing (source ``pull``) through the
one recording path. Records are matched by receipt only: Pull's ``trxDate`` has an unverified
time zone. Every sweep is recorded per shortcode with what it found.

Daraja answers "no records" and "this shortcode is not set up for Pull" with one text (ResponseCode
1001, HTTP 200). A shortcode whose sweeps have never listed a payment while callbacks were
captured for it in their windows is flagged: it is probably not provisioned.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from c2b.models import Payment, Shortcode
from daraja.client import DarajaClient, get_client
from daraja.errors import DarajaError
from daraja.pull import PullRegistration
from reconciliation.backfill import Unrecordable, payload_from_pull, payments_backfill
from reconciliation.models import PullSweep

logger = logging.getLogger(__name__)

MAX_HOURS = 48


def daraja_callback_url(kind: str) -> str:
    """Where Daraja posts results to us: the public base URL, our token, the result's kind."""
    token = settings.C2B_CALLBACK_TOKENS[0] if settings.C2B_CALLBACK_TOKENS else ""
    if not token:
        raise DarajaError("Set C2B_CALLBACK_TOKEN: Daraja's results come to a secret URL.")
    path = reverse("reconciliation:daraja-result", kwargs={"token": token, "kind": kind})
    return settings.C2B_CALLBACK_BASE_URL.rstrip("/") + path


def pull_register(
    *, shortcode: Shortcode, nominated_number: str = "", client: DarajaClient | None = None
) -> PullRegistration:
    """Register ``shortcode`` for Pull Transactions (once; "already registered" is success)."""
    number = nominated_number or settings.DARAJA_PULL_NOMINATED_NUMBER
    if not number:
        raise DarajaError(
            "Pull registration needs the SACCO's nominated phone number: give it "
            "(--nominated-number) or set DARAJA_PULL_NOMINATED_NUMBER."
        )
    with daraja_client(client) as daraja:
        return daraja.pull_register(
            shortcode=shortcode.number,
            nominated_number=number,
            callback_url=daraja_callback_url("pull-callback"),
        )


def pull_transactions(
    *,
    shortcode: Shortcode,
    hours: int = MAX_HOURS,
    client: DarajaClient | None = None,
) -> PullSweep:
    """Sweep the last ``hours`` (at most 48) of ``shortcode``'s payments; backfill the missing.

    Always records the sweep, also when Daraja fails (``error`` then says why, and the
    ``DarajaError`` propagates)."""
    if not 1 <= hours <= MAX_HOURS:
        raise ValueError(f"Pull serves at most the last {MAX_HOURS} hours (asked for {hours}).")
    # Daraja takes whole seconds: round up, or a payment made this very second is left out.
    end = (timezone.now() + timedelta(seconds=1)).replace(microsecond=0)
    sweep = PullSweep.objects.create(
        shortcode=shortcode, window_start=end - timedelta(hours=hours), window_end=end
    )
    try:
        with daraja_client(client) as daraja:
            found = daraja.pull_sweep(
                shortcode=shortcode.number, start=sweep.window_start, end=sweep.window_end
            )
    except DarajaError as exc:
        sweep.error, sweep.finished_at = str(exc), timezone.now()
        sweep.save(update_fields=["error", "finished_at"])
        raise
    first = found.pages[0] if found.pages else None
    sweep.records, sweep.unreadable = len(found.records), len(found.unreadable)
    sweep.pages, sweep.complete = len(found.pages), found.complete
    sweep.response_code = first.response_code if first else ""
    sweep.message = found.message if found.nothing_found else found.stop_reason
    problems = _backfill_missing(sweep, found.records)
    sweep.warning = " ".join([*problems, _provisioning_warning(sweep)]).strip()
    sweep.finished_at = timezone.now()
    sweep.save()
    logger.info(
        "Pull sweep %s of %s: %s listed, %s known, %s backfilled",
        sweep.pk,
        shortcode.number,
        sweep.records,
        sweep.known,
        sweep.backfilled,
    )
    return sweep


def _backfill_missing(sweep: PullSweep, records: tuple) -> list[str]:
    known = set(
        Payment.objects.filter(trans_id__in=[r.transaction_id for r in records]).values_list(
            "trans_id", flat=True
        )
    )
    sweep.known = len(known)
    payloads, problems = [], []
    for record in records:
        if record.transaction_id in known:
            continue
        try:
            payloads.append(payload_from_pull(record, shortcode=sweep.shortcode.number))
        except Unrecordable as exc:
            problems.append(f"{record.transaction_id} could not be stored: {exc}")
    recordings = payments_backfill(payloads=payloads, source=Payment.Source.PULL)
    sweep.backfilled = sum(r.created for r in recordings)
    problems += [f"{r.payload.trans_id}: {r.refused}" for r in recordings if r.refused]
    return problems


def _provisioning_warning(sweep: PullSweep) -> str:
    """Why Pull may never list anything here, when the evidence says so."""
    if sweep.records:
        return ""
    ever_listed = PullSweep.objects.filter(shortcode=sweep.shortcode, records__gt=0).exists()
    captured = Payment.objects.filter(
        shortcode=sweep.shortcode,
        source=Payment.Source.CALLBACK,
        trans_time__gte=sweep.window_start,
        trans_time__lte=sweep.window_end,
    ).exists()
    if ever_listed or not captured:
        return ""
    return (
        f"Pull has never listed a payment for {sweep.shortcode.number}, though callbacks were "
        "captured in this window: the shortcode is probably not set up for Pull Transactions "
        "(Daraja gives one answer for 'no records' and 'not registered'). Run pull_register, "
        "or ask Safaricom to enable Pull for it."
    )


@contextmanager
def daraja_client(client: DarajaClient | None) -> Iterator[DarajaClient]:
    """The given client, or one configured from settings that is closed afterwards."""
    if client is not None:
        yield client
        return
    with get_client() as own:
        yield own
