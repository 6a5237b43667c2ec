"""Turning a C2B callback body into a typed payment, strictly.

The body validation and confirmation share (../shared/daraja.md, "The callbacks"). Real traffic
differs from the documentation, so this parser accepts what M-Pesa is known to send (amounts as
strings or numbers, names missing, masked or hashed MSISDNs, 7-digit shortcodes, extra keys) and
refuses, with a reason a person can act on, anything it cannot understand with certainty.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

EAT = ZoneInfo("Africa/Nairobi")

KNOWN_FIELDS = (
    "TransactionType",
    "TransID",
    "TransTime",
    "TransAmount",
    "BusinessShortCode",
    "BillRefNumber",
    "InvoiceNumber",
    "OrgAccountBalance",
    "ThirdPartyTransID",
    "MSISDN",
    "FirstName",
    "MiddleName",
    "LastName",
)
_TRANS_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")
_SHORTCODE = re.compile(r"^\d{5,7}$")
_TRANS_TIME = re.compile(r"^\d{14}$")
_TEXT_LIMITS = {
    "TransactionType": 32,
    "BillRefNumber": 64,
    "InvoiceNumber": 64,
    "ThirdPartyTransID": 64,
    "MSISDN": 128,
    "FirstName": 100,
    "MiddleName": 100,
    "LastName": 100,
}
MAX_AMOUNT = Decimal("9999999999.99")


class PayloadError(ValueError):
    """The body cannot be understood; ``reason`` says why in words staff can act on."""

    def __init__(self, reason: str, *, trans_id: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.trans_id = trans_id


@dataclass(frozen=True)
class C2BPayload:
    trans_id: str
    transaction_type: str
    trans_time: datetime | None
    amount: Decimal
    business_short_code: str
    bill_ref_number: str
    invoice_number: str
    org_account_balance: Decimal | None
    third_party_trans_id: str
    msisdn: str
    first_name: str
    middle_name: str
    last_name: str
    extra: dict[str, Any] = field(default_factory=dict)


# The facts of a payment, for telling a faithful redelivery from a conflicting one: Daraja's name
# and the attribute that holds it, on C2BPayload and on c2b.models.Payment alike.
# OrgAccountBalance and extra keys are left out on purpose (docs/decisions.md #3).
COMPARED_FIELDS = {
    "TransactionType": "transaction_type",
    "TransTime": "trans_time",
    "TransAmount": "amount",
    "BusinessShortCode": "business_short_code",
    "BillRefNumber": "bill_ref_number",
    "MSISDN": "msisdn",
}


def load_json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body, parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"Body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PayloadError("Body must be a JSON object.")
    return data


def extract_trans_id(body: bytes) -> str:
    """Best-effort TransID for indexing a raw receipt; never raises."""
    try:
        value = json.loads(body).get("TransID", "")
    except Exception:
        return ""
    return value[:32] if isinstance(value, str) and _TRANS_ID.match(value) else ""


def parse_c2b_body(body: bytes, *, require_time: bool = True) -> C2BPayload:
    """Parse a callback body. Confirmations need ``TransTime``; validation tolerates its absence."""
    return parse_c2b(load_json_object(body), require_time=require_time)


def parse_c2b(data: dict[str, Any], *, require_time: bool = True) -> C2BPayload:
    trans_id = _text(data, "TransID", limit=32).strip()
    if not trans_id:
        raise PayloadError("TransID is missing.")
    if not _TRANS_ID.match(trans_id):
        raise PayloadError(f"TransID {trans_id!r} is not an M-Pesa receipt number.")
    try:
        return _parse_fields(data, trans_id, require_time=require_time)
    except PayloadError as exc:
        raise PayloadError(exc.reason, trans_id=trans_id) from None


def _parse_fields(data: dict[str, Any], trans_id: str, *, require_time: bool) -> C2BPayload:
    if "TransAmount" not in data or data["TransAmount"] in ("", None):
        raise PayloadError("TransAmount is missing.")
    amount = _decimal(data["TransAmount"], "TransAmount")
    if amount <= 0:
        raise PayloadError(f"TransAmount must be positive (got {amount}).")

    shortcode = data.get("BusinessShortCode")
    if isinstance(shortcode, int) and not isinstance(shortcode, bool):
        shortcode = str(shortcode)
    if not isinstance(shortcode, str) or not _SHORTCODE.match(shortcode.strip()):
        raise PayloadError(f"BusinessShortCode {shortcode!r} is not a 5 to 7 digit shortcode.")

    raw_time = data.get("TransTime")
    trans_time = None
    if raw_time not in (None, "") or require_time:
        trans_time = _trans_time(raw_time)

    balance_raw = data.get("OrgAccountBalance")
    balance = None if balance_raw in (None, "") else _decimal(balance_raw, "OrgAccountBalance")

    return C2BPayload(
        trans_id=trans_id,
        transaction_type=_text(data, "TransactionType"),
        trans_time=trans_time,
        amount=amount,
        business_short_code=shortcode.strip(),
        bill_ref_number=_text(data, "BillRefNumber"),
        invoice_number=_text(data, "InvoiceNumber"),
        org_account_balance=balance,
        third_party_trans_id=_text(data, "ThirdPartyTransID"),
        msisdn=_text(data, "MSISDN"),
        first_name=_text(data, "FirstName"),
        middle_name=_text(data, "MiddleName"),
        last_name=_text(data, "LastName"),
        extra={k: _jsonable(v) for k, v in data.items() if k not in KNOWN_FIELDS},
    )


def _text(data: dict[str, Any], key: str, *, limit: int | None = None) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise PayloadError(f"{key} must be text (got {type(value).__name__}).")
    # Kept exactly as sent (BillRefNumber is what the customer typed, spaces included);
    # normalising for matching is the member registry's business.
    text = str(value)
    limit = limit or _TEXT_LIMITS.get(key, 100)
    if len(text) > limit:
        raise PayloadError(f"{key} is longer than {limit} characters.")
    return text


def _decimal(value: Any, key: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise PayloadError(f"{key} must be a number or a numeric string (got {value!r}).")
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise PayloadError(f"{key} {value!r} is not a number.") from None
    if not amount.is_finite():
        raise PayloadError(f"{key} {value!r} is not a number.")
    if amount != amount.quantize(Decimal("0.01")):
        raise PayloadError(f"{key} {value!r} has more than two decimal places.")
    if abs(amount) > MAX_AMOUNT:
        raise PayloadError(f"{key} {value!r} is too large.")
    return amount.quantize(Decimal("0.01"))


def _trans_time(value: Any) -> datetime:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _TRANS_TIME.match(value.strip()):
        raise PayloadError(f"TransTime {value!r} is not in the form YYYYMMDDHHmmss.")
    try:
        local = datetime.strptime(value.strip(), "%Y%m%d%H%M%S")
    except ValueError:
        raise PayloadError(f"TransTime {value!r} is not a real date and time.") from None
    return local.replace(tzinfo=EAT).astimezone(UTC)


def _jsonable(value: Any) -> Any:
    """Decimals from parse_float back to JSON-safe values for the ``extra`` column."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value
