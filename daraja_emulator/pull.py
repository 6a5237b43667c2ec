"""Pull Transactions: register once per shortcode, then query the last 48 hours in pages."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from daraja_emulator import errors, fields
from daraja_emulator.clock import EAT
from daraja_emulator.ids import gateway_id
from daraja_emulator.ledger import PAYBILL, Transaction
from daraja_emulator.payers import DARAJA_MSISDN_RE
from daraja_emulator.state import EmulatorState, PullRegistration
from daraja_emulator.urlrules import url_problem

WINDOW = timedelta(hours=48)
# Daraja's one text for "no records" and for "this shortcode is not set up for Pull".
NOTHING = "No records found or Organization Name not available"
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M")


def register(state: EmulatorState, body: dict[str, Any]) -> dict[str, Any]:
    number = fields.shortcode(body)
    if body.get("RequestType") != "Pull":
        raise errors.invalid_field("RequestType")
    nominated = body.get("NominatedNumber")
    if not isinstance(nominated, str) or not DARAJA_MSISDN_RE.match(nominated):
        raise errors.invalid_field("NominatedNumber", "use the 2547XXXXXXXX format")
    shortcode = state.shortcode(number)
    problem = url_problem(
        body.get("CallBackURL"),
        https_only=shortcode.settings.mode == "production",
        allow_local=state.settings.allow_localhost,
    )
    if problem:
        raise errors.rejected_url("CallBackURL", problem)
    reply = {"ResponseRefID": str(uuid.uuid4()), "ShortCode": number}
    with state.lock:
        if shortcode.pull is not None:
            return reply | {
                "ResponseStatus": "1001",
                "ResponseDescription": "ShortCode already Registered",
            }
        shortcode.pull = PullRegistration(nominated, str(body["CallBackURL"]), state.clock.now())
    return reply | {
        "ResponseStatus": "1000",
        "ResponseDescription": "Shortcode Registered Successfully",
    }


def _date(body: dict[str, Any], name: str) -> datetime:
    value = body.get(name)
    if isinstance(value, str):
        for pattern in _DATE_FORMATS:
            try:
                return datetime.strptime(value.strip(), pattern).replace(tzinfo=EAT)
            except ValueError:
                continue
    raise errors.invalid_field(name, "use YYYY-MM-DD HH:MM:SS")


def _offset(body: dict[str, Any]) -> int:
    value = body.get("OffSetValue")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.isdigit():
        raise errors.invalid_field("OffSetValue")
    return int(value)


def _item(tx: Transaction, org_name: str) -> dict[str, Any]:
    completed = tx.completed_at or tx.initiated_at
    return {
        "transactionId": tx.trans_id,
        # Documented as "2020-08-05T10:13:00Z"; the emulator sends the true UTC instant.
        "trxDate": completed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        # Documented as a number without the country code (722000000).
        "msisdn": int(tx.payer.msisdn[3:]),
        "sender": tx.payer.display_name,
        "transactiontype": "c2b-pay-bill-debit"
        if tx.command_id == PAYBILL
        else "c2b-buy-goods-debit",
        "billreference": tx.bill_ref,
        "amount": f"{tx.amount:.2f}",
        "organizationname": org_name,
    }


def query(state: EmulatorState, body: dict[str, Any]) -> dict[str, Any]:
    number = fields.shortcode(body)
    start = _date(body, "StartDate")
    end = _date(body, "EndDate")
    offset = _offset(body)
    shortcode = state.shortcode(number)
    with state.lock:
        registered = shortcode.pull is not None
        org_name = shortcode.settings.display_name
    earliest = max(start, state.clock.now() - WINDOW)
    # Customer payments only: charges, transfers and reversals are lines, not payments, and a
    # reversed payment is still listed (it was paid; the reversal is another transaction).
    matching = [
        tx
        for tx in state.ledger.completed_in_order(number)
        if tx.completed_at is not None and earliest <= tx.completed_at <= end
    ]
    page = matching[offset : offset + state.settings.pull_page_size] if registered else []
    if not page:
        # One answer, HTTP 200, whether nothing matched or the shortcode is not set up.
        return {
            "ResponseRefID": gateway_id(),
            "ResponseCode": "1001",
            "ResponseMessage": NOTHING,
            "Response": [[]],
        }
    return {
        "ResponseRefID": gateway_id(),
        "ResponseCode": "1000",
        "ResponseMessage": "Success",
        "Response": [[_item(tx, org_name) for tx in page]],
    }
