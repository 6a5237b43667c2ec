"""Receiving C2B callbacks: store raw first, then answer M-Pesa.

The caller (the callback view) is not atomic: the raw ``CallbackReceipt`` is committed on its own,
in one INSERT, before any parsing, so whatever happens afterwards (bad payload, a bug, a rollback)
the request that arrived is in the database and can be processed again once the cause is fixed.

A confirmation is then only checked (readable, for a shortcode we have) and answered; it stays
``received`` until the capture worker (``capture.services``) turns it into a payment, exactly
once, in a batch with others. See docs/decisions.md #11 for why capture is split this way.

A validation is decided here and now, while the payer's phone waits, so it costs what a
confirmation costs: decided in memory first, then the raw request (in its final state) and its
decision are written together, one commit. The raw request still survives every failure of
ours: see ``callback_validation_answer`` and docs/decisions.md #17.
"""

from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    DataError,
    IntegrityError,
    connection,
    connections,
    models,
    transaction,
)
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model
from django.utils import timezone

from c2b.models import CallbackReceipt, Shortcode, ValidationDecision
from c2b.payloads import PayloadError, extract_trans_id, parse_c2b_body
from c2b.selectors import shortcode_is_known, shortcode_rules
from c2b.services.validation_rules import validation_check

logger = logging.getLogger(__name__)

ACCEPTED = {"ResultCode": 0, "ResultDesc": "Accepted"}
VALIDATION_ACCEPTED = {"ResultCode": "0", "ResultDesc": "Accepted"}
# Why a receipt failed, for staff.
REFUSED = "The database refused a value in this request (see traceback)."
UNEXPECTED = "Unexpected error while processing (see traceback)."


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
    return _receipt_stored(_arrived(kind, body, headers, source_ip))


def _arrived(kind: str, body: bytes, headers: dict[str, str], source_ip: str | None) -> dict:
    """A receipt's columns as the request arrived."""
    return {
        "kind": kind,
        "body": body,
        "headers": headers,
        "source_ip": source_ip,
        "received_at": timezone.now(),
        "trans_id": extract_trans_id(body),
    }


def _receipt_stored(arrived: dict[str, Any]) -> CallbackReceipt:
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
    db = connections[DEFAULT_DB_ALIAS]  # once: each use of the `connection` proxy looks it up
    fields = [CallbackReceipt._meta.get_field(name) for name in arrived]
    params = [f.get_db_prep_save(arrived[f.name], db) for f in fields]
    sql = _receipt_insert_sql(tuple(f.column for f in fields))
    with db.cursor() as cursor:
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
    """What to answer M-Pesa for a stored confirmation.

    Only a database outage propagates (``DatabaseError``: the view answers 503, never an
    accept). A value the database refuses is not an outage: the receipt is failed with the
    traceback and the request refused like an unreadable one (400). A bug fails it too and
    answers 500: ours to fix; the raw request is kept for reprocessing. (Validations are answered
    by ``callback_validation_answer``.)
    """
    receipt.attempts += 1  # saved only when this answer ends it; a capture attempt follows
    try:
        return _confirmation_check(receipt)
    except (DataError, IntegrityError):
        logger.exception("The database refused a value of callback receipt %s", receipt.pk)
        return _bad_request(receipt, REFUSED, traceback=traceback.format_exc())
    except DatabaseError:
        raise
    except Exception:
        logger.exception("Bug while processing callback receipt %s", receipt.pk)
        _receipt_done(
            receipt,
            CallbackReceipt.Status.FAILED,
            error=UNEXPECTED,
            traceback=traceback.format_exc(),
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

UNDECIDABLE = "C2B00016"  # Daraja's "other error": M-Pesa declines cleanly


@dataclass(frozen=True)
class _Decision:
    """A validation's answer and what it was decided on, before anything is written.

    ``failed`` is set when the request could not be decided (unreadable, or a bug): the answer
    is then ``C2B00016`` and the receipt is failed with that reason for staff."""

    accepted: bool
    result_code: str
    reason: str
    trans_id: str = ""
    shortcode: Shortcode | None = None
    business_short_code: str = ""
    amount: Decimal | None = None
    bill_ref_number: str = ""
    failed: str = ""
    traceback: str = ""


def callback_validation_answer(
    *, body: bytes, headers: dict[str, str], source_ip: str | None
) -> CallbackOutcome:
    """Decide a validation request, keep it with its decision, and say what to answer (HTTP 200
    with a ResultCode, always; only a database outage raises ``DatabaseError``: a 503).

    The payer's phone waits for this answer, so it costs what a confirmation costs: the rules
    are applied in memory first (the shortcode from ``shortcode_rules``, a copy at most a second
    old; the member rule reads the member's status through its unique index), then the raw
    request, already in its final state, and its decision are written together: one statement
    and one commit on PostgreSQL, one transaction elsewhere.

    The raw request survives every failure of ours, as when it was committed first:
    - unreadable, or a bug while deciding: the decision is ``C2B00016`` and the receipt is
      written failed, with the reason and the traceback;
    - the database refuses a value of the write: nothing of it is kept, so the raw request is
      then stored alone and failed, with a ``C2B00016`` decision, in a second write;
    - the database fails while a rule reads it: the raw request is stored alone, if it still
      can be (it shows to staff as never answered), and the error propagates.
    """
    arrived = _arrived(CallbackReceipt.Kind.VALIDATION, body, headers, source_ip)
    try:
        decision = _validation_decide(body)
    except DatabaseError:
        _receipt_insert(arrived)
        raise
    except Exception:
        logger.exception("Bug while deciding a validation request (%s)", arrived["trans_id"])
        decision = _Decision(
            False, UNDECIDABLE, UNEXPECTED, failed=UNEXPECTED, traceback=traceback.format_exc()
        )
    try:
        receipt_id = _validation_insert(arrived, decision)
    except (DataError, IntegrityError):
        logger.exception("The database refused a value of a validation request")
        receipt = _receipt_stored(arrived)
        receipt.attempts += 1
        return _validation_unreadable(receipt, REFUSED, traceback=traceback.format_exc())
    if decision.failed:
        logger.warning("Callback receipt %s needs attention: %s", receipt_id, decision.failed)
    elif not decision.accepted:
        logger.info("Validation of %s rejected: %s", decision.trans_id, decision.result_code)
    if decision.accepted:
        return CallbackOutcome(200, VALIDATION_ACCEPTED)
    return CallbackOutcome(200, {"ResultCode": decision.result_code, "ResultDesc": "Rejected"})


def _validation_decide(body: bytes) -> _Decision:
    try:
        payload = parse_c2b_body(body, require_time=False)
    except PayloadError as exc:
        reason = f"Unreadable validation request: {exc.reason}"
        return _Decision(False, UNDECIDABLE, reason, trans_id=exc.trans_id, failed=reason)
    shortcode = shortcode_rules(payload.business_short_code)
    rejection = validation_check(shortcode=shortcode, payload=payload)
    return _Decision(
        accepted=rejection is None,
        result_code=rejection.code if rejection else "0",
        reason=rejection.reason if rejection else "All rules passed.",
        trans_id=payload.trans_id,
        shortcode=shortcode,
        business_short_code=payload.business_short_code,
        amount=payload.amount,
        bill_ref_number=payload.bill_ref_number,
    )


def _validation_insert(arrived: dict[str, Any], decision: _Decision) -> int:
    """Write the receipt, in its final state, and its decision together; returns the receipt's
    id. Exactly the rows ``mark()`` and ``ValidationDecision.objects.create`` would leave."""
    now = timezone.now()
    receipt = {
        **arrived,
        "status": CallbackReceipt.Status.FAILED
        if decision.failed
        else CallbackReceipt.Status.PROCESSED,
        "error": decision.failed,
        "traceback": decision.traceback,
        "attempts": 1,
        "processed_at": now,
    }
    if decision.failed and decision.trans_id:  # what could be read of an unreadable request
        receipt["trans_id"] = decision.trans_id
    decided = {
        "trans_id": decision.trans_id,
        "shortcode": decision.shortcode.pk if decision.shortcode else None,
        "business_short_code": decision.business_short_code,
        "amount": decision.amount,
        "bill_ref_number": decision.bill_ref_number,
        "accepted": decision.accepted,
        "result_code": decision.result_code,
        "reason": decision.reason,
        "decided_at": now,
    }
    db = connections[DEFAULT_DB_ALIAS]  # once: each use of the `connection` proxy looks it up
    receipt_columns, receipt_params = _prepared(db, CallbackReceipt, receipt)
    decision_columns, decision_params = _prepared(db, ValidationDecision, decided)
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            sql = _validation_insert_sql(receipt_columns, decision_columns)
            cursor.execute(sql, receipt_params + decision_params)
            return cursor.fetchone()[0]
        with transaction.atomic():
            cursor.execute(_insert_sql(CallbackReceipt, receipt_columns), receipt_params)
            # fetchall: SQLite keeps a RETURNING statement open until every row is read.
            receipt_id = cursor.fetchall()[0][0]
            columns = ("receipt_id", *decision_columns)
            cursor.execute(_insert_sql(ValidationDecision, columns), [receipt_id, *decision_params])
            cursor.fetchall()
            return receipt_id


def _prepared(
    db: BaseDatabaseWrapper, model: type[Model], values: dict[str, Any]
) -> tuple[tuple[str, ...], list[Any]]:
    """Column names and values as ``objects.create`` would store them: through each field's own
    ``get_db_prep_save``, except where that is known to change nothing."""
    columns, fields, plain = _columns(model, tuple(values))
    params = [
        value
        if as_is and (value is None or type(value) in _PLAIN)
        else field.get_db_prep_save(value, db)
        for value, field, as_is in zip(values.values(), fields, plain, strict=True)
    ]
    return columns, params


# Text, whole-number and yes/no columns (and keys) store a plain str, int or bool unchanged.
_PLAIN = (str, int, bool)
_PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.ForeignKey,
)


@cache
def _columns(
    model: type[Model], names: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[Field, ...], tuple[bool, ...]]:
    fields = tuple(model._meta.get_field(name) for name in names)
    plain = tuple(isinstance(f, _PLAIN_FIELDS) for f in fields)
    return tuple(f.column for f in fields), fields, plain


@cache
def _insert_sql(model: type[Model], columns: tuple[str, ...]) -> str:
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    placeholders = ", ".join(["%s"] * len(columns))
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({names}) "  # noqa: S608 (model names only)
        f"VALUES ({placeholders}) RETURNING {quote('id')}"
    )


@cache
def _validation_insert_sql(receipt: tuple[str, ...], decision: tuple[str, ...]) -> str:
    """PostgreSQL: both rows in one statement (a data-modifying WITH), so one round trip and
    one commit; the decision takes the new receipt's id."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in decision)
    placeholders = ", ".join(["%s"] * len(decision))
    table = quote(ValidationDecision._meta.db_table)
    return (
        f"WITH receipt AS ({_insert_sql(CallbackReceipt, receipt)}) "  # noqa: S608 (model names only)
        f"INSERT INTO {table} ({quote('receipt_id')}, {names}) "
        f"SELECT {quote('id')}, {placeholders} FROM receipt RETURNING {quote('receipt_id')}"
    )


def _validation_unreadable(
    receipt: CallbackReceipt, reason: str, *, trans_id: str = "", traceback: str = ""
) -> CallbackOutcome:
    """Reject a stored receipt with ``C2B00016`` ("other error"), recording the decision and
    failing the receipt: M-Pesa then declines the payment cleanly instead of applying the
    shortcode's default."""
    with transaction.atomic():
        ValidationDecision.objects.create(
            receipt=receipt,
            trans_id=trans_id,
            accepted=False,
            result_code=UNDECIDABLE,
            reason=reason,
        )
        _receipt_done(
            receipt,
            CallbackReceipt.Status.FAILED,
            error=reason,
            trans_id=trans_id,
            traceback=traceback,
        )
    logger.warning("Callback receipt %s needs attention: %s", receipt.pk, reason)
    return CallbackOutcome(200, {"ResultCode": UNDECIDABLE, "ResultDesc": "Rejected"})


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
