"""Pull Transactions: Safaricom's list of a shortcode's payments over the last 48 hours.

``DarajaClient.pull_register`` registers a shortcode once; ``DarajaClient.pull_query`` reads one
page, ``DarajaClient.pull_sweep`` every page of a window. This module holds what those return
and the Daraja-specific reading behind them (../shared/daraja.md, "Recovering missed payments"):

- The window is sent as ``YYYY-MM-DD HH:MM:SS`` in EAT and may span at most 48 hours, the most
  Safaricom serves; ``pull_window`` refuses anything else before a request is sent.
- ``ResponseCode`` ``1001`` with HTTP 200 means "no records" **and** "this shortcode is not set
  up for Pull", in one text. It is not an error: the page is empty and says it was a 1001, so a
  caller can notice a shortcode whose Pull never returns anything.
- Records are nested in ``"Response"`` (a list of lists). Amounts are strings or numbers.
- ``trxDate`` is kept as sent and also parsed, but whether its ``Z`` really means UTC is
  unverified: **match Pull records to payments by ``transaction_id``, never by time.**
- Whether ``msisdn``/``sender`` are masked today is unverified; they are kept as opaque text.
- ``OffSetValue`` is described both as a row offset and as a page number; see ``sweep``.

Sweep overlapping windows that end a few minutes in the past: a payment landing mid-sweep can
shift Daraja's pages, and matching on ``transaction_id`` makes the overlap harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from daraja import values
from daraja.errors import DarajaError, InvalidRequest
from daraja.values import EAT

logger = logging.getLogger(__name__)

WINDOW = timedelta(hours=48)
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
SUCCESS_CODE = "1000"
NO_RECORDS_CODE = "1001"
REGISTERED_STATUS = "1000"
ALREADY_REGISTERED_STATUS = "1001"
# A generous bound on requests for one window: a sweep that reaches it reports incomplete.
DEFAULT_MAX_PAGES = 100
# Leeway for a start computed as "now - 48 h" a moment before the request is built.
_START_LEEWAY = timedelta(minutes=5)


@dataclass(frozen=True)
class PullRegistration:
    """A shortcode registered for Pull (``1000``) or found already registered (``1001``)."""

    status: str
    already_registered: bool
    description: str
    reference_id: str
    raw: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class PullRecord:
    """One payment from Pull Transactions.

    ``trx_date`` is ``trx_date_raw`` parsed (an offset or ``Z`` as sent, otherwise EAT), or
    ``None`` when it cannot be read. Its time zone is unverified: match on ``transaction_id``,
    never on time. ``msisdn`` is opaque text (documented as a number without the country code;
    maybe masked); it and ``sender`` are left out of ``repr`` so that logging cannot leak them.
    """

    transaction_id: str
    amount: Decimal
    trx_date_raw: str
    trx_date: datetime | None
    msisdn: str = field(repr=False)
    sender: str = field(repr=False)
    transaction_type: str
    bill_reference: str
    organization_name: str
    raw: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class UnreadablePullRecord:
    """An item of a Pull page that is not a usable record; ``reason`` says why."""

    reason: str
    raw: Any = field(repr=False)


@dataclass(frozen=True)
class PullPage:
    """One page of Pull Transactions as Daraja answered it.

    ``no_records`` is the ``1001`` answer: nothing in the window, or the shortcode is not set up
    for Pull (Daraja's ``response_message`` is the same for both).
    """

    offset: int
    response_code: str
    response_message: str
    records: tuple[PullRecord, ...]
    unreadable: tuple[UnreadablePullRecord, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def no_records(self) -> bool:
        return self.response_code == NO_RECORDS_CODE

    @property
    def size(self) -> int:
        """Items on the page, readable or not (what a row offset advances by)."""
        return len(self.records) + len(self.unreadable)

    @property
    def transaction_ids(self) -> tuple[str, ...]:
        return tuple(record.transaction_id for record in self.records)


@dataclass(frozen=True)
class PullSweep:
    """Every page of one window, and the records found on them, each ``transaction_id`` once.

    ``complete`` is False when the sweep stopped at its page cap with pages possibly left;
    ``stop_reason`` says why it stopped. ``offset_mode`` is how Daraja read ``OffSetValue`` for
    this window: ``"row"``, ``"page"``, ``"unclear"`` (stepped one at a time), or ``"unknown"``
    when there was no second page to tell.
    ``nothing_found`` means the first page was the ``1001`` answer: sweeps of a shortcode that
    always end this way suggest it is not set up for Pull (check ``message``).
    """

    start: datetime
    end: datetime
    records: tuple[PullRecord, ...]
    unreadable: tuple[UnreadablePullRecord, ...]
    pages: tuple[PullPage, ...] = field(repr=False)
    complete: bool
    stop_reason: str
    offset_mode: str

    @property
    def nothing_found(self) -> bool:
        return not self.records and bool(self.pages) and self.pages[0].no_records

    @property
    def message(self) -> str:
        """What Daraja said on the first page (for a 1001: why nothing was found)."""
        return self.pages[0].response_message if self.pages else ""


def pull_window(start: datetime, end: datetime, *, now: datetime | None = None) -> tuple[str, str]:
    """``(StartDate, EndDate)`` as Daraja wants them, or ``InvalidRequest`` saying what is wrong.

    Both must be aware datetimes (any zone; sent in EAT, whole seconds), ``start`` before ``end``,
    at most 48 hours apart, and ``start`` no earlier than 48 hours before ``now`` (a few minutes'
    leeway): Safaricom serves only the last 48 hours and would silently return less. Use the
    Org-portal statement for anything older.
    """
    for name, moment in (("start", start), ("end", end)):
        if not isinstance(moment, datetime):
            raise InvalidRequest(f"Pull window {name} must be a datetime, not {moment!r}.")
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise InvalidRequest(
                f"Pull window {name} {moment.isoformat()} has no time zone: pass an aware "
                "datetime (M-Pesa's times are EAT, Africa/Nairobi)."
            )
    if start >= end:
        raise InvalidRequest(
            f"Pull window start {_eat(start)} must be before its end {_eat(end)} (EAT)."
        )
    if end - start > WINDOW:
        raise InvalidRequest(
            f"Pull window {_eat(start)} to {_eat(end)} (EAT) spans {end - start}; Safaricom "
            "serves at most 48 hours: split it, or use the Org-portal statement."
        )
    now = now or datetime.now(UTC)
    if start < now - WINDOW - _START_LEEWAY:
        raise InvalidRequest(
            f"Pull window start {_eat(start)} (EAT) is more than 48 hours ago; Safaricom serves "
            "only the last 48 hours: use the Org-portal statement for older payments."
        )
    return _eat(start), _eat(end)


def parse_register_reply(data: dict[str, Any]) -> PullRegistration:
    """Daraja's reply to a Pull registration; ``DarajaError`` unless it is 1000 or 1001."""
    try:
        status = values.code(data.get("ResponseStatus", data.get("ResponseCode")))
    except ValueError:
        status = ""
    if status not in (REGISTERED_STATUS, ALREADY_REGISTERED_STATUS):
        raise DarajaError.from_response(200, data)
    return PullRegistration(
        status=status,
        already_registered=status == ALREADY_REGISTERED_STATUS,
        description=_safe_text(data.get("ResponseDescription") or data.get("ResponseMessage")),
        reference_id=_safe_text(data.get("ResponseRefID")),
        raw=data,
    )


def parse_query_reply(data: dict[str, Any], *, offset: int) -> PullPage:
    """One page from Daraja's Pull query reply; ``DarajaError`` unless it is 1000 or 1001.

    Items that are not readable records (no ``transactionId``, an amount that is not money) are
    set apart in ``unreadable`` rather than failing the page: one odd record must not hide the
    others.
    """
    try:
        code = values.code(data.get("ResponseCode"))
    except ValueError:
        code = ""
    if code not in (SUCCESS_CODE, NO_RECORDS_CODE):
        raise DarajaError.from_response(200, data)
    message = _safe_text(data.get("ResponseMessage") or data.get("ResponseDescription"))
    items = data.get("Response")
    if items is None or code == NO_RECORDS_CODE:
        items = []
    if not isinstance(items, list):
        raise DarajaError(
            f"Daraja's Pull reply (ResponseCode {code}) has no list of records under "
            f'"Response" but {type(items).__name__}.'
        )
    records: list[PullRecord] = []
    unreadable: list[UnreadablePullRecord] = []
    for item in _flatten(items):
        try:
            records.append(parse_record(item))
        except ValueError as exc:
            unreadable.append(UnreadablePullRecord(str(exc), item))
    return PullPage(
        offset=offset,
        response_code=code,
        response_message=message,
        records=tuple(records),
        unreadable=tuple(unreadable),
        raw=data,
    )


def parse_record(item: Any) -> PullRecord:
    """One Pull item as a ``PullRecord``; ``ValueError`` with the reason if it is not one."""
    if not isinstance(item, dict):
        raise ValueError(f"not a record but {type(item).__name__}")
    transaction_id = _field(item, "transactionId")
    if not transaction_id:
        raise ValueError("no transactionId")
    if "amount" not in item:
        raise ValueError(f"{transaction_id}: no amount")
    try:
        amount = values.amount(item["amount"])
    except ValueError as exc:
        raise ValueError(f"{transaction_id}: amount is {exc}") from None
    trx_date_raw = _field(item, "trxDate")
    return PullRecord(
        transaction_id=transaction_id,
        amount=amount,
        trx_date_raw=trx_date_raw,
        trx_date=_trx_date(trx_date_raw),
        msisdn=_field(item, "msisdn"),
        sender=_field(item, "sender"),
        transaction_type=_field(item, "transactiontype"),
        bill_reference=_field(item, "billreference"),
        organization_name=_field(item, "organizationname"),
        raw=item,
    )


def sweep(
    fetch: Callable[[int], PullPage],
    *,
    start: datetime,
    end: datetime,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> PullSweep:
    """Read every page of a window with ``fetch(offset)``, never looping forever.

    ``OffSetValue`` is documented both as a row offset and as a page number, so the first two
    requests tell which: offset 0, then offset 1. A second page that starts with the first
    page's records less its first one means rows (offset 1 started one row in): continue from
    offset + rows received. A second page with none of the first page's records means pages:
    continue with offset + 1. (With one record per page the two readings agree.) Any other
    overlap (records shifted by a payment landing mid-sweep, say) is ``"unclear"``: continue
    with offset + 1, which skips nothing under either reading and at worst costs requests up
    to the cap. Guessing rows when Daraja meant pages would skip pages silently.

    It stops at an empty page (including the 1001 answer), at a page that repeats the previous
    one (same transaction ids, in order: Daraja ignoring the offset or repeating its last page),
    at a page that brings no record not already seen, and after ``max_pages`` requests, in which
    case ``complete`` is False. Records are kept once per ``transaction_id``, first seen first.
    """
    if max_pages < 1:
        raise InvalidRequest("max_pages must be at least 1.")
    pages: list[PullPage] = []
    seen: dict[str, PullRecord] = {}
    unreadable: list[UnreadablePullRecord] = []
    mode = "unknown"
    offset = 0
    stop_reason = ""
    while True:
        page = fetch(offset)
        pages.append(page)
        previous = pages[-2] if len(pages) > 1 else None
        new = [r for r in page.records if r.transaction_id not in seen]
        for record in new:
            seen[record.transaction_id] = record
        unreadable.extend(page.unreadable)
        if page.size == 0:
            stop_reason = "empty page" if not page.no_records else "no records (1001)"
            break
        if previous is not None and page.transaction_ids == previous.transaction_ids:
            stop_reason = "page repeats the previous one"
            break
        if previous is not None and not new and not page.unreadable:
            stop_reason = "page brings no new records"
            break
        if len(pages) >= max_pages:
            stop_reason = f"page cap ({max_pages} requests) reached"
            break
        if len(pages) == 2:
            mode = _offset_mode(pages[0], page)
        offset += page.size if mode == "row" else 1
    complete = not stop_reason.startswith("page cap")
    if not complete:
        logger.warning(
            "Pull sweep %s to %s stopped at its page cap with %d records; pages may remain",
            _eat(start),
            _eat(end),
            len(seen),
        )
    return PullSweep(
        start=start,
        end=end,
        records=tuple(seen.values()),
        unreadable=tuple(unreadable),
        pages=tuple(pages),
        complete=complete,
        stop_reason=stop_reason,
        offset_mode=mode,
    )


def _offset_mode(first: PullPage, second: PullPage) -> str:
    """How Daraja read OffSetValue 1, from the pages at offsets 0 and 1."""
    first_ids, second_ids = first.transaction_ids, second.transaction_ids
    if not set(first_ids) & set(second_ids):
        return "page"
    row_overlap = first_ids[1:]
    if first.size == len(first_ids) >= 2 and second_ids[: len(row_overlap)] == row_overlap:
        return "row"
    return "unclear"


def _flatten(items: list[Any]) -> list[Any]:
    """``[[a, b], [c]]`` (Daraja's shape), ``[a, b]`` or a mix, as ``[a, b, c]``; one level."""
    flat: list[Any] = []
    for item in items:
        if isinstance(item, list):
            flat.extend(item)
        else:
            flat.append(item)
    return flat


def _field(item: dict[str, Any], key: str) -> str:
    try:
        return values.text(item.get(key))
    except ValueError:
        raise ValueError(f"{key} is not text") from None


def _safe_text(value: Any) -> str:
    try:
        return values.text(value)
    except ValueError:
        return ""


def _trx_date(raw: str) -> datetime | None:
    """Documented as ``2020-08-05T10:13:00Z``; also reads ``YYYYMMDDHHmmss`` (EAT) and ISO times
    without an offset (taken as EAT, M-Pesa's clock)."""
    if not raw:
        return None
    try:
        return values.mpesa_timestamp(raw)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(raw)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=EAT)
        return parsed.astimezone(EAT)
    except (ValueError, OverflowError):
        return None


def _eat(moment: datetime) -> str:
    return moment.astimezone(EAT).strftime(DATE_FORMAT)
