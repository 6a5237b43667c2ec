"""Transaction Status: the acknowledgement Daraja gives at once, and the result it posts later.

``DarajaClient.transaction_status`` asks M-Pesa about one receipt and returns a
``TransactionStatusAck``; M-Pesa then POSTs the answer to our ResultURL (or, if the request
expired in its queue, to our QueueTimeOutURL). ``parse_transaction_status_result`` and
``parse_queue_timeout`` turn those bodies into a ``TransactionStatusResult``; match it to the
query by ``conversation_id`` / ``originator_conversation_id`` from the acknowledgement.

What the parser copes with (../shared/daraja.md, "Recovering missed payments"):

- ``ResultParameters.ResultParameter`` is read **by Key, never by position** (Safaricom's own SDK
  reads them in another order than its documentation); it may be a list or a single object, and
  failures carry none at all. Keys may come without ``Value``.
- ``ResultCode`` and the values may be numbers or strings.
- On success the result's own ``TransactionID`` is a placeholder (``MBN0000000``,
  ``SB60000000``): the payment's receipt is the ``ReceiptNo`` parameter.
- ``InitiatedTime``/``FinalisedTime`` are ``YYYYMMDDHHmmss`` in EAT; ``DebitPartyName`` is
  ``"<msisdn> - <NAME>"`` where the msisdn part may be masked.
- ``ReferenceData.ReferenceItem`` may be an object or a list.

A body that is not a result at all raises ``ResultParseError`` (a ``ValueError``) and nothing
else; so does a result whose amount or times cannot be read, because a wrong amount must never
pass for a right one. Store the raw body before parsing it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from daraja import values
from daraja.errors import ResultParseError

SUCCESS_CODE = "0"
# Result codes a caller may want to name (Daraja documents more; all are kept as text).
INVALID_INITIATOR_CODE = "2001"
# Transaction Status's own TransactionID on success, not the payment (seen so far).
PLACEHOLDER_TRANSACTION_IDS = frozenset({"MBN0000000", "SB60000000"})

_PARTY_NUMBER = re.compile(r"[0-9*+ ]*[0-9*][0-9*+ ]*")


@dataclass(frozen=True)
class TransactionStatusAck:
    """Daraja accepted the query; the result will arrive on the ResultURL.

    Keep both ids: the result carries them, and that is how it is matched to this query.
    """

    conversation_id: str
    originator_conversation_id: str
    description: str
    raw: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class TransactionStatusResult:
    """A Transaction Status result (or queue timeout), normalised.

    ``success`` means M-Pesa answered the query (``ResultCode`` 0); whether the payment moved
    money is ``transaction_status`` (``"Completed"``). Strings that were absent are ``""``;
    amounts and times that were absent are ``None``. ``parameters`` holds every ResultParameter
    by Key (a key sent without ``Value`` maps to ``None``); ``reference_data`` the same for
    ReferenceItem. ``result_transaction_id`` is the query's own id, not the payment's receipt.
    Fields that carry phone numbers are left out of ``repr`` so that logging a result cannot
    leak them.
    """

    success: bool
    timed_out: bool
    result_code: str
    result_type: str
    description: str
    conversation_id: str
    originator_conversation_id: str
    result_transaction_id: str
    receipt: str
    amount: Decimal | None
    transaction_status: str
    initiated_at: datetime | None
    finalised_at: datetime | None
    debit_party: str = field(repr=False)
    debit_party_msisdn: str = field(repr=False)
    debit_party_name: str = field(repr=False)
    credit_party: str
    reason_type: str
    debit_account_type: str
    parameters: dict[str, Any] = field(repr=False)
    reference_data: dict[str, Any] = field(repr=False)
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def completed(self) -> bool:
        """M-Pesa answered and says the payment completed (it moved money)."""
        return self.success and self.transaction_status.lower() == "completed"


def parse_transaction_status_result(body: Any) -> TransactionStatusResult:
    """The body M-Pesa POSTs to our ResultURL: a dict, or the JSON text/bytes as received."""
    return _parse(body, timed_out=False)


def parse_queue_timeout(body: Any) -> TransactionStatusResult:
    """The body M-Pesa POSTs to our QueueTimeOutURL: the same envelope, for a query that expired
    in M-Pesa's queue before it was processed. Always ``success=False, timed_out=True``: it says
    nothing about the payment; ask again later."""
    return _parse(body, timed_out=True)


def split_party(value: str) -> tuple[str, str]:
    """``"254722000000 - John Doe"`` -> ``("254722000000", "John Doe")``.

    The number part may be masked (``2547******287``) or missing; a value without `` - `` is a
    number if it looks like one, else a name. Only the first `` - `` splits: names may hold one.
    """
    number, separator, name = value.partition(" - ")
    if separator:
        return number.strip(), name.strip()
    if _PARTY_NUMBER.fullmatch(value.strip()):
        return value.strip(), ""
    return "", value.strip()


def _parse(body: Any, *, timed_out: bool) -> TransactionStatusResult:
    data = _load(body)
    result = data.get("Result") if isinstance(data, dict) else None
    if not isinstance(result, dict):
        raise ResultParseError('Not a Daraja result: no "Result" object.')
    if "ResultCode" not in result:
        raise ResultParseError("Not a Daraja result: no ResultCode.")
    try:
        return _result(result, data, timed_out=timed_out)
    except ResultParseError:
        raise
    except ValueError as exc:
        raise ResultParseError(f"Unreadable Daraja result: {exc}.") from None


def _result(result: dict[str, Any], data: Any, *, timed_out: bool) -> TransactionStatusResult:
    result_code = values.code(result["ResultCode"])
    parameters = _items(result.get("ResultParameters"), "ResultParameter")
    reference_data = _items(result.get("ReferenceData"), "ReferenceItem")

    def envelope(key: str) -> str:
        return _text(result.get(key), key)

    def param(key: str) -> str:
        return _text(parameters.get(key), key)

    debit_party = param("DebitPartyName")
    debit_msisdn, debit_name = split_party(debit_party)
    return TransactionStatusResult(
        success=result_code == SUCCESS_CODE and not timed_out,
        timed_out=timed_out,
        result_code=result_code,
        result_type=envelope("ResultType"),
        description=envelope("ResultDesc"),
        conversation_id=envelope("ConversationID") or param("ConversationID"),
        originator_conversation_id=(
            envelope("OriginatorConversationID") or param("OriginatorConversationID")
        ),
        result_transaction_id=envelope("TransactionID"),
        receipt=param("ReceiptNo"),
        amount=_optional(parameters, "Amount", values.amount),
        transaction_status=param("TransactionStatus"),
        initiated_at=_optional(parameters, "InitiatedTime", values.mpesa_timestamp),
        finalised_at=_optional(parameters, "FinalisedTime", values.mpesa_timestamp),
        debit_party=debit_party,
        debit_party_msisdn=debit_msisdn,
        debit_party_name=debit_name,
        credit_party=param("CreditPartyName"),
        reason_type=param("ReasonType"),
        debit_account_type=param("DebitAccountType"),
        parameters=parameters,
        reference_data=reference_data,
        raw=data,
    )


def _load(body: Any) -> Any:
    if isinstance(body, bytes | bytearray | memoryview):
        try:
            body = bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            raise ResultParseError("Not a Daraja result: the body is not UTF-8 text.") from None
    if isinstance(body, str):
        try:
            # Decimal, not float: an amount read from JSON must not pass through binary floats.
            return json.loads(body, parse_float=Decimal)
        except (ValueError, RecursionError):
            raise ResultParseError("Not a Daraja result: the body is not JSON.") from None
    return body


def _items(container: Any, name: str) -> dict[str, Any]:
    """``{"ResultParameter": [{"Key": k, "Value": v}, ...]}`` (or one object) as ``{k: v}``.

    Entries that are not ``{"Key": <text>, ...}`` are skipped (they stay in ``raw``). The same
    Key twice with different values is refused: which one counts would depend on the order.
    """
    if not isinstance(container, dict):
        return {}
    entries = container.get(name)
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list):
        return {}
    found: dict[str, Any] = {}
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("Key"), str):
            continue
        key = entry["Key"].strip()
        value = entry.get("Value")
        if key in found and found[key] != value:
            raise ValueError(f"{name} {key!r} appears twice with different values")
        found[key] = value
    return found


def _text(value: Any, name: str) -> str:
    try:
        return values.text(value)
    except ValueError:
        raise ValueError(f"{name} is not text but {type(value).__name__}") from None


def _optional(parameters: dict[str, Any], key: str, read: Any) -> Any:
    value = parameters.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return read(value)
    except ValueError as exc:
        raise ValueError(f"{key} is {exc}") from None
