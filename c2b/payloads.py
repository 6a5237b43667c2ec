"""The Daraja C2B callback fields, declared once, and the strict parser built from them.

``C2B_FIELDS`` is the one table of the body validation and confirmation share
(../shared/daraja.md, "The callbacks"): Daraja's key (also the export column's header), the
attribute that holds the value on ``C2BPayload`` and on ``c2b.models.Payment``, how the value is
read, its length limit, and whether a redelivery must agree on it. The parser, the model's
column sizes, the export columns, the duplicate comparison and the capture's field copy are all
derived from it.

Real traffic differs from the documentation, so the parser accepts what M-Pesa is known to send
(amounts as strings or numbers, names missing, masked or hashed MSISDNs, 7-digit shortcodes,
extra keys) and refuses, with a reason a person can act on, anything it cannot understand with
certainty.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from core.eat import EAT


class Kind(Enum):
    """How a field's value is read."""

    RECEIPT = "receipt"  # TransID: the idempotency key
    TEXT = "text"  # kept exactly as sent
    TIME = "time"  # YYYYMMDDHHmmss, EAT
    AMOUNT = "amount"  # positive, two decimals at most
    BALANCE = "balance"  # like an amount, may be blank or negative
    SHORTCODE = "shortcode"  # 5 to 7 digits


@dataclass(frozen=True)
class C2BField:
    key: str
    attr: str
    kind: Kind
    max_length: int | None = None
    # A redelivery is the same payment when these agree (docs/decisions.md #3): OrgAccountBalance
    # and the payer's names may differ between channels that report one payment.
    compared: bool = False


# Text limits leave room to spare over what M-Pesa sends (../shared/daraja.md): a TransID is 10
# characters, an account as typed up to 20, "Organization To Organization Transfer" 37, a hashed
# MSISDN 64, and an organisation paying in puts its whole name in FirstName.
C2B_FIELDS: tuple[C2BField, ...] = (
    C2BField("TransID", "trans_id", Kind.RECEIPT, max_length=32),
    C2BField("TransactionType", "transaction_type", Kind.TEXT, max_length=100, compared=True),
    C2BField("TransTime", "trans_time", Kind.TIME, compared=True),
    C2BField("TransAmount", "amount", Kind.AMOUNT, compared=True),
    C2BField("BusinessShortCode", "business_short_code", Kind.SHORTCODE, 16, compared=True),
    C2BField("BillRefNumber", "bill_ref_number", Kind.TEXT, max_length=100, compared=True),
    C2BField("InvoiceNumber", "invoice_number", Kind.TEXT, max_length=100),
    C2BField("OrgAccountBalance", "org_account_balance", Kind.BALANCE),
    C2BField("ThirdPartyTransID", "third_party_trans_id", Kind.TEXT, max_length=100),
    C2BField("MSISDN", "msisdn", Kind.TEXT, max_length=128, compared=True),
    C2BField("FirstName", "first_name", Kind.TEXT, max_length=200),
    C2BField("MiddleName", "middle_name", Kind.TEXT, max_length=200),
    C2BField("LastName", "last_name", Kind.TEXT, max_length=200),
)
FIELD_BY_ATTR = {f.attr: f for f in C2B_FIELDS}
KNOWN_KEYS = frozenset(f.key for f in C2B_FIELDS)
COMPARED_FIELDS = tuple(f for f in C2B_FIELDS if f.compared)

_TRANS_ID = re.compile(r"^[A-Za-z0-9]{1,32}$")
_SHORTCODE = re.compile(r"^[0-9]{5,7}$")
_TRANS_TIME = re.compile(r"^[0-9]{14}$")
# ASCII digits, an optional decimal point, thousands separators only where they belong.
_AMOUNT = re.compile(r"^-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?$")
MAX_AMOUNT = Decimal("9999999999.99")
# M-Pesa's fields are flat; unknown extra keys are kept, but not nested deeper than this.
MAX_DEPTH = 32
# M-Pesa launched in Kenya on 6 March 2007; no real payment is older. Clocks disagree a little,
# so a time up to a day ahead of ours is believed, and no further.
MPESA_BEGAN = datetime(2007, 3, 6, tzinfo=EAT)
MAX_AHEAD = timedelta(days=1)


class PayloadError(ValueError):
    """The body cannot be understood; ``reason`` says why in words staff can act on."""

    def __init__(self, reason: str, *, trans_id: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.trans_id = trans_id


@dataclass(frozen=True)
class C2BPayload:
    """A callback body, typed: one attribute per ``C2B_FIELDS`` entry, plus unknown keys."""

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

    def differences(self, other: object) -> list[tuple[str, Any, Any]]:
        """``(Daraja key, theirs, ours)`` for each compared field where ``other`` (a stored
        ``Payment`` or another payload) disagrees with this one."""
        pairs = ((f.key, getattr(other, f.attr), getattr(self, f.attr)) for f in COMPARED_FIELDS)
        return [(key, theirs, ours) for key, theirs, ours in pairs if theirs != ours]


def payload_values(payload: C2BPayload) -> dict[str, Any]:
    """Every field's value by attribute name, ``extra`` included: what a ``Payment`` stores."""
    return {f.attr: getattr(payload, f.attr) for f in C2B_FIELDS} | {"extra": payload.extra}


def load_json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, refused (``PayloadError``) unless it is unambiguous JSON: no
    key twice (which amount would be meant?), no NaN or Infinity (not JSON, and no database
    stores them)."""
    try:
        data = json.loads(
            body,
            parse_float=Decimal,
            parse_constant=_not_a_number,
            object_pairs_hook=_object_without_repeats,
        )
    except PayloadError:
        raise
    except RecursionError:
        raise PayloadError(f"Body is nested deeper than {MAX_DEPTH} levels.") from None
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError, and ints over 4300 digits
        raise PayloadError(f"Body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PayloadError("Body must be a JSON object.")
    return data


def _not_a_number(name: str) -> Any:
    raise PayloadError(f"Body holds {name}, which is not a number JSON allows.")


def _object_without_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise PayloadError(f"Key {key!r} appears twice: which value is meant cannot be known.")
        data[key] = value
    return data


def _check_storable(value: Any, where: str, *, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise PayloadError(f"Body is nested deeper than {MAX_DEPTH} levels.")
    if isinstance(value, str):
        _check_text(value, where)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key, f"A key in {where}")
            _check_storable(item, key, depth=depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_storable(item, where, depth=depth + 1)


def _check_text(text: str, where: str) -> None:
    if "\x00" in text:
        raise PayloadError(f"{where} contains a NUL character, which cannot be stored.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise PayloadError(f"{where} contains text that is not valid Unicode.") from None


def extract_trans_id(body: bytes) -> str:
    """Best-effort TransID for indexing a raw receipt; never raises."""
    try:
        value = json.loads(body).get("TransID", "")
    except Exception:
        return ""
    return value.upper() if isinstance(value, str) and _TRANS_ID.match(value) else ""


def parse_c2b_body(body: bytes, *, require_time: bool = True) -> C2BPayload:
    """Parse a callback body. Confirmations need ``TransTime``; validation tolerates its absence."""
    return parse_c2b(load_json_object(body), require_time=require_time)


def parse_c2b(data: dict[str, Any], *, require_time: bool = True) -> C2BPayload:
    """A callback body (already decoded) as a typed payload, or ``PayloadError`` saying why not.

    Everything it accepts can be stored: the texts fit their columns and hold no NUL character
    or lone surrogate, unknown keys nest no deeper than ``MAX_DEPTH``, amounts and times are
    real. So a confirmation answered "Accepted" is one the capture worker can store."""
    _check_storable(data, "Body", depth=0)
    trans_id = _receipt(data)
    values: dict[str, Any] = {"trans_id": trans_id}
    try:
        for f in C2B_FIELDS:
            if f.kind is Kind.TIME:
                values[f.attr] = _time(data, f, required=require_time)
            elif f.kind is not Kind.RECEIPT:
                values[f.attr] = _READERS[f.kind](data, f)
    except PayloadError as exc:
        raise PayloadError(exc.reason, trans_id=trans_id) from None
    extra = {k: _jsonable(v) for k, v in data.items() if k not in KNOWN_KEYS}
    return C2BPayload(**values, extra=extra)


def _receipt(data: dict[str, Any]) -> str:
    receipt = FIELD_BY_ATTR["trans_id"]
    trans_id = _text(data, receipt).strip()
    if not trans_id:
        raise PayloadError("TransID is missing.")
    if not _TRANS_ID.match(trans_id):
        raise PayloadError(f"TransID {trans_id!r} is not an M-Pesa receipt number.")
    # Receipts are case-insensitive: one receipt is one payment, whatever case it arrives in.
    return trans_id.upper()


def _text(data: dict[str, Any], f: C2BField) -> str:
    value = data.get(f.key)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise PayloadError(f"{f.key} must be text (got {type(value).__name__}).")
    # Kept exactly as sent (BillRefNumber is what the customer typed, spaces included);
    # normalising for matching is the member registry's business.
    text = str(value)
    if f.max_length is not None and len(text) > f.max_length:
        raise PayloadError(f"{f.key} is longer than {f.max_length} characters.")
    return text


def _amount(data: dict[str, Any], f: C2BField) -> Decimal:
    if data.get(f.key) in ("", None):
        raise PayloadError(f"{f.key} is missing.")
    amount = _decimal(data[f.key], f.key)
    if amount <= 0:
        raise PayloadError(f"{f.key} must be positive (got {amount}).")
    return amount


def _balance(data: dict[str, Any], f: C2BField) -> Decimal | None:
    value = data.get(f.key)
    return None if value in (None, "") else _decimal(value, f.key)


def _shortcode(data: dict[str, Any], f: C2BField) -> str:
    shortcode = data.get(f.key)
    if isinstance(shortcode, int) and not isinstance(shortcode, bool):
        shortcode = str(shortcode)
    if not isinstance(shortcode, str) or not _SHORTCODE.match(shortcode.strip()):
        raise PayloadError(f"{f.key} {shortcode!r} is not a 5 to 7 digit shortcode.")
    return shortcode.strip()


def _time(data: dict[str, Any], f: C2BField, *, required: bool) -> datetime | None:
    value = data.get(f.key)
    if value in (None, "") and not required:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _TRANS_TIME.match(value.strip()):
        raise PayloadError(f"{f.key} {value!r} is not in the form YYYYMMDDHHmmss.")
    try:
        local = datetime.strptime(value.strip(), "%Y%m%d%H%M%S").replace(tzinfo=EAT)
    except ValueError:
        raise PayloadError(f"{f.key} {value!r} is not a real date and time.") from None
    if local < MPESA_BEGAN:
        raise PayloadError(f"{f.key} {value!r} is before M-Pesa existed.")
    if local > datetime.now(UTC) + MAX_AHEAD:
        raise PayloadError(f"{f.key} {value!r} is more than a day in the future.")
    return local.astimezone(UTC)


_READERS = {
    Kind.TEXT: _text,
    Kind.AMOUNT: _amount,
    Kind.BALANCE: _balance,
    Kind.SHORTCODE: _shortcode,
}


def _decimal(value: Any, key: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise PayloadError(f"{key} must be a number or a numeric string (got {value!r}).")
    text = str(value)
    if len(text) > 30 or not _AMOUNT.match(text):
        raise PayloadError(f"{key} {text[:30]!r} is not a number (digits, a decimal point).")
    amount = Decimal(text.replace(",", ""))
    if amount != amount.quantize(Decimal("0.01")):
        raise PayloadError(f"{key} {value!r} has more than two decimal places.")
    if abs(amount) > MAX_AMOUNT:
        raise PayloadError(f"{key} {value!r} is too large.")
    return amount.quantize(Decimal("0.01"))


def _jsonable(value: Any) -> Any:
    """Decimals from parse_float back to JSON-safe values for the ``extra`` column."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value
