"""Receiving C2B callbacks: store raw first, then answer M-Pesa.

The caller (the callback view) is not atomic: the raw ``CallbackReceipt`` is committed on its own,
in one INSERT, before any parsing, so whatever happens afterwards (bad payload, a bug, a rollback)
the request that arrived is in the database and can be processed again once the cause is fixed.

A confirmation is then only checked (readable, for a shortcode we have) and answered; it stays
``received`` until the capture worker (``capture.services``) turns it into a payment, exactly
once, in a batch with others. A validation is decided here and now: M-Pesa waits for the answer.
See docs/decisions.md #11 for why capture is split this way.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import DatabaseError, DataError, IntegrityError, connection, transaction
from django.utils import timezone

from c2b.models import CallbackReceipt, Shortcode, ValidationDecision
from c2b.payloads import PayloadError, extract_trans_id, parse_c2b_body
from c2b.selectors import shortcode_is_known
from c2b.services.validation_rules import validation_check

logger = logging.getLogger(__name__)

ACCEPTED = {"ResultCode": 0, "ResultDesc": "Accepted"}
VALIDATION_ACCEPTED = {"ResultCode": "0", "ResultDesc": "Accepted"}


@dataclass(frozen=True)
class CallbackOutcome:
    """What to answer M-Pesa: an HTTP status and a JSON body."""

    http_status: int
    body: dict[str, Any]


# A new receipt's bookkeeping columns, written as constants in the INSERT's text.
_FRESH = {"status": CallbackReceipt.Status.RECEIVED, "error": "", "traceback": "", "attempts": 0}


def callback_receipt_store(
    *, kind: str, body: bytes, headers: dict[str, str], source_ip: str | None
) -> CallbackReceipt:
    """Commit the request as received. Raises ``DatabaseError`` when the database is down."""
    arrived = {
        "kind": kind,
        "body": body,
        "headers": headers,
        "source_ip": source_ip,
        "received_at": timezone.now(),
        "trans_id": extract_trans_id(body),
    }
    pk = _receipt_insert(arrived)
    values = {"id": pk, **arrived, **_FRESH}
    # from_db() wants the model's field order; processed_at and payment stay deferred.
    names = [f.attname for f in CallbackReceipt._meta.concrete_fields if f.attname in values]
    return CallbackReceipt.from_db(connection.alias, names, [values[n] for n in names])


def _receipt_insert(arrived: dict[str, Any]) -> int:
    """One INSERT, written out rather than built by the ORM for every request.

    This is the one statement every callback runs; the ORM's per-call query compilation cost
    more than the rest of the request (docs/benchmarks.md). Values go through each field's own
    ``get_db_prep_save``, so they are stored exactly as ``objects.create`` would store them.
    """
    fields = [CallbackReceipt._meta.get_field(name) for name in arrived]
    params = [f.get_db_prep_save(arrived[f.name], connection) for f in fields]
    sql = _receipt_insert_sql(tuple(f.column for f in fields))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


@cache
def _receipt_insert_sql(columns: tuple[str, ...]) -> str:
    """The statement, with ``RETURNING`` (PostgreSQL, and SQLite since 3.35: both we run on)."""
    quote = connection.ops.quote_name
    # Only the model's own table and column names, and the constants above, go into the text;
    # what arrived is passed as parameters.
    table = quote(CallbackReceipt._meta.db_table)
    names = ", ".join(quote(c) for c in (*columns, *_FRESH))
    constants = ", ".join(f"'{v}'" if isinstance(v, str) else str(v) for v in _FRESH.values())
    placeholders = ", ".join(["%s"] * len(columns))
    return (
        f"INSERT INTO {table} ({names}) VALUES ({placeholders}, {constants}) "  # noqa: S608
        f"RETURNING {quote('id')}"
    )


def callback_receipt_answer(*, receipt: CallbackReceipt) -> CallbackOutcome:
    """What to answer M-Pesa for a stored receipt.

    Only a database outage propagates (``DatabaseError``: the view answers 503, never an
    accept). A value the database refuses is not an outage: the receipt is failed with the
    traceback and the request refused like an unreadable one. So is a bug, except that a
    confirmation then answers 500 (ours to fix; the raw request is kept for reprocessing) while
    a validation, which M-Pesa reads from the body of an HTTP 200, is rejected ``C2B00016``.
    """
    receipt.attempts += 1  # saved only when this answer ends it; a capture attempt follows
    validation = receipt.kind == CallbackReceipt.Kind.VALIDATION
    try:
        return _validation_process(receipt) if validation else _confirmation_check(receipt)
    except (DataError, IntegrityError):
        logger.exception("The database refused a value of callback receipt %s", receipt.pk)
        reason = "The database refused a value in this request (see traceback)."
        if validation:
            return _validation_unreadable(receipt, reason, traceback=traceback.format_exc())
        return _bad_request(receipt, reason, traceback=traceback.format_exc())
    except DatabaseError:
        raise
    except Exception:
        logger.exception("Bug while processing callback receipt %s", receipt.pk)
        reason = "Unexpected error while processing (see traceback)."
        if validation:
            return _validation_unreadable(receipt, reason, traceback=traceback.format_exc())
        _receipt_done(
            receipt, CallbackReceipt.Status.FAILED, error=reason, traceback=traceback.format_exc()
        )
        return CallbackOutcome(
            500, {"ResultCode": 1, "ResultDesc": "Internal error; the request was kept."}
        )


# --- confirmation ----------------------------------------------------------------------------


def unknown_shortcode_reason(number: str) -> str:
    return (
        f"Unknown shortcode {number}: add it (admin or 'manage.py shortcode add') and "
        "reprocess this callback."
    )


def _confirmation_check(receipt: CallbackReceipt) -> CallbackOutcome:
    """Accept a readable confirmation for a known shortcode; the capture worker stores it.

    Redeliveries get the same answer as first deliveries (M-Pesa only needs to know we have it);
    the worker tells them apart with the unique constraint on TransID.
    """
    try:
        payload = parse_c2b_body(bytes(receipt.body), require_time=True)
    except PayloadError as exc:
        return _bad_request(receipt, exc.reason, trans_id=exc.trans_id)
    if not shortcode_is_known(payload.business_short_code):
        reason = unknown_shortcode_reason(payload.business_short_code)
        return _bad_request(receipt, reason, trans_id=payload.trans_id)
    return CallbackOutcome(200, ACCEPTED)


# --- validation ------------------------------------------------------------------------------


def _validation_process(receipt: CallbackReceipt) -> CallbackOutcome:
    try:
        payload = parse_c2b_body(bytes(receipt.body), require_time=False)
    except PayloadError as exc:
        reason = f"Unreadable validation request: {exc.reason}"
        return _validation_unreadable(receipt, reason, trans_id=exc.trans_id)

    shortcode = Shortcode.objects.filter(number=payload.business_short_code).first()
    rejection = validation_check(shortcode=shortcode, payload=payload)
    with transaction.atomic():
        ValidationDecision.objects.create(
            receipt=receipt,
            trans_id=payload.trans_id,
            shortcode=shortcode,
            business_short_code=payload.business_short_code,
            amount=payload.amount,
            bill_ref_number=payload.bill_ref_number,
            accepted=rejection is None,
            result_code=rejection.code if rejection else "0",
            reason=rejection.reason if rejection else "All rules passed.",
        )
        _receipt_done(receipt, CallbackReceipt.Status.PROCESSED)
    if rejection:
        logger.info("Validation of %s rejected: %s", payload.trans_id, rejection.code)
        return CallbackOutcome(200, {"ResultCode": rejection.code, "ResultDesc": "Rejected"})
    return CallbackOutcome(200, VALIDATION_ACCEPTED)


def _validation_unreadable(
    receipt: CallbackReceipt, reason: str, *, trans_id: str = "", traceback: str = ""
) -> CallbackOutcome:
    """Reject with ``C2B00016`` ("other error"), recording the decision and failing the receipt:
    M-Pesa then declines the payment cleanly instead of applying the shortcode's default."""
    code = "C2B00016"
    with transaction.atomic():
        ValidationDecision.objects.create(
            receipt=receipt, trans_id=trans_id, accepted=False, result_code=code, reason=reason
        )
        _receipt_done(
            receipt,
            CallbackReceipt.Status.FAILED,
            error=reason,
            trans_id=trans_id,
            traceback=traceback,
        )
    logger.warning("Callback receipt %s needs attention: %s", receipt.pk, reason)
    return CallbackOutcome(200, {"ResultCode": code, "ResultDesc": "Rejected"})


# --- receipt bookkeeping ---------------------------------------------------------------------


def _bad_request(
    receipt: CallbackReceipt, reason: str, *, trans_id: str = "", traceback: str = ""
) -> CallbackOutcome:
    _receipt_done(
        receipt, CallbackReceipt.Status.FAILED, error=reason, trans_id=trans_id, traceback=traceback
    )
    logger.warning("Callback receipt %s needs attention: %s", receipt.pk, reason)
    return CallbackOutcome(400, {"ResultCode": 1, "ResultDesc": f"Rejected: {reason}"})


def _receipt_done(receipt: CallbackReceipt, status: str, **outcome: Any) -> None:
    receipt.mark(status, **outcome)
    receipt.save(update_fields=CallbackReceipt.OUTCOME_FIELDS)
