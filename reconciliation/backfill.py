"""Recording payments M-Pesa's records know and the ledger does not: the same path as a callback.

Each source's record is written as the callback body M-Pesa would have sent and read by the same
strict parser (``c2b.payloads.parse_c2b``), so a backfilled payment obeys every rule a captured
one does, then recorded by ``capture.recording.payments_record``: the same table and unique
TransID, member match and SMS receipt (``RECONCILE_SMS_RECEIPTS`` can leave those unsent).
A callback arriving later for the same TransID is a redelivery, never a second payment.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction

from c2b.payloads import C2BPayload, PayloadError, parse_c2b
from capture.recording import Recording, payments_record
from core.eat import EAT


class Unrecordable(ValueError):
    """The record cannot become a payment; the message says why."""


def _body(
    *,
    receipt: str,
    at: datetime,
    amount: Decimal,
    shortcode: str,
    account: str,
    msisdn: str,
    name: str,
    transaction_type: str,
    balance: Decimal | None = None,
) -> dict[str, Any]:
    first, *rest = name.split() or [""]
    return {
        "TransactionType": transaction_type,
        "TransID": receipt,
        "TransTime": at.astimezone(EAT).strftime("%Y%m%d%H%M%S"),
        "TransAmount": f"{amount:.2f}",
        "BusinessShortCode": shortcode,
        "BillRefNumber": account,
        "InvoiceNumber": "",
        "OrgAccountBalance": "" if balance is None else f"{balance:.2f}",
        "ThirdPartyTransID": "",
        "MSISDN": msisdn,
        "FirstName": first,
        "MiddleName": " ".join(rest[:-1]),
        "LastName": rest[-1] if rest else "",
    }


def _parsed(body: dict[str, Any]) -> C2BPayload:
    try:
        return parse_c2b(body)
    except PayloadError as exc:
        raise Unrecordable(exc.reason) from None


def payload_from_entry(entry: Any, *, shortcode: str) -> C2BPayload:
    """A statement payment line (``StatementEntry``) as the callback M-Pesa did not send."""
    return _parsed(
        _body(
            receipt=entry.receipt,
            at=entry.completed_at,
            amount=entry.paid_in,
            shortcode=shortcode,
            account=entry.account,
            msisdn=entry.payer_msisdn,
            name=entry.payer_name,
            transaction_type=entry.reason_type or "Pay Bill",
            balance=entry.balance,
        )
    )


def payload_from_pull(record: Any, *, shortcode: str) -> C2BPayload:
    """A Pull Transactions record (``daraja.pull.PullRecord``). Its time is Pull's ``trxDate``,
    whose time zone Safaricom does not state: it is kept, never matched on."""
    if record.trx_date is None:
        raise Unrecordable(f"Pull gave no readable time for {record.transaction_id}.")
    return _parsed(
        _body(
            receipt=record.transaction_id,
            at=record.trx_date,
            amount=record.amount,
            shortcode=shortcode,
            account=record.bill_reference,
            msisdn=record.msisdn,
            name=record.sender,
            transaction_type=record.transaction_type or "Pay Bill",
        )
    )


def payload_from_status(result: Any, *, shortcode: str) -> C2BPayload:
    """A completed Transaction Status result (``daraja.status.TransactionStatusResult``). It
    carries no account number: M-Pesa confirms that the money arrived, never whose it is."""
    at = result.finalised_at or result.initiated_at
    if at is None or result.amount is None:
        raise Unrecordable("M-Pesa's answer gave no amount or time to record.")
    return _parsed(
        _body(
            receipt=result.receipt,
            at=at,
            amount=result.amount,
            shortcode=shortcode,
            account="",
            msisdn=result.debit_party_msisdn,
            name=result.debit_party_name,
            transaction_type=result.reason_type or "Pay Bill",
        )
    )


def payments_backfill(*, payloads: Sequence[C2BPayload], source: str) -> list[Recording]:
    """Record missing payments found in M-Pesa's records, in one transaction (see module)."""
    with transaction.atomic():
        return payments_record(
            payloads=payloads, source=source, sms_receipts=settings.RECONCILE_SMS_RECEIPTS
        )
