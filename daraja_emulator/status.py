"""Transaction Status query: a synchronous acknowledgement, then the result on ResultURL."""

from __future__ import annotations

import base64
import binascii
import random
from datetime import datetime
from decimal import Decimal
from typing import Any

from daraja_emulator import errors, fields, security
from daraja_emulator.clock import mpesa_timestamp
from daraja_emulator.delivery import post_json
from daraja_emulator.ids import conversation_id, empty_receipt, gateway_id
from daraja_emulator.ledger import COMPLETED, Transaction
from daraja_emulator.settings import ShortcodeSettings
from daraja_emulator.state import EmulatorState
from daraja_emulator.urlrules import url_problem

INVALID_INITIATOR = (2001, "The initiator information is invalid.")
# Safaricom does not document the result for an unknown receipt; this is the code and text its
# reversal API documents for an unknown original transaction. Note the type: failures carry a
# string ResultCode, successes the number 0.
UNKNOWN_RECEIPT = ("R000002", "The OriginalTransactionID is invalid.")
# Failed results carry Safaricom's own queue-timeout URL in ReferenceData, not the Occasion.
INTERNAL_TIMEOUT_URL = (
    "https://internalsandbox.safaricom.co.ke/mpesa/transactionstatusresults/v1/submit"
)
# What the emulator posts to QueueTimeOutURL with status_queue_timeout. Safaricom does not
# document this body; this is the result envelope with a non-zero code, the emulator's reading.
QUEUE_TIMEOUT = (1, "The service request timed out before it was processed.")


def _security_credential(body: dict[str, Any]) -> str:
    """Non-empty, well-formed base64, or the gateway refuses the request. Whether it decrypts
    to the initiator's password is decided later, in the result (2001), as Daraja does."""
    value = fields.required_str(body, "SecurityCredential", max_length=4096)
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise errors.invalid_field("SecurityCredential", "not base64") from exc
    return value


def _initiator_valid(
    state: EmulatorState, settings: ShortcodeSettings, initiator: str, credential: str
) -> bool:
    if initiator != settings.initiator:
        return False
    if not settings.strict_security_credential:
        return True
    try:
        pair = security.key_pair(state.settings.key_dir)
    except security.CredentialKeyUnavailable as exc:
        raise errors.ApiError(500, "emulator.500", str(exc)) from exc
    return pair.decrypts_to(credential, settings.initiator_password)


def query(state: EmulatorState, body: dict[str, Any]) -> dict[str, Any]:
    initiator = fields.required_str(body, "Initiator")
    credential = _security_credential(body)
    if body.get("CommandID") != "TransactionStatusQuery":
        raise errors.invalid_field("CommandID")
    receipt = fields.required_str(body, "TransactionID", max_length=40)
    party_a = fields.shortcode(body, "PartyA")
    if body.get("IdentifierType") != "4":
        raise errors.invalid_field("IdentifierType", 'use "4" (organisation shortcode)')
    urls = {}
    for name in ("ResultURL", "QueueTimeOutURL"):
        problem = url_problem(
            body.get(name),
            https_only=False,
            allow_local=state.settings.allow_localhost,
            register_rules=False,
        )
        if problem:
            raise errors.invalid_field(name, problem)
        urls[name] = str(body[name])
    fields.required_str(body, "Remarks", max_length=100)
    occasion = fields.optional_str(body, "Occasion", max_length=100)
    shortcode = state.shortcode(party_a, field_name="PartyA")

    now = state.clock.now()
    ack = {
        "OriginatorConversationID": gateway_id(),
        "ConversationID": conversation_id(now),
        "ResponseCode": "0",
        "ResponseDescription": "Accept the service request successfully.",
    }
    with state.lock:
        settings = shortcode.settings
    tx = state.ledger.get(receipt)
    shape = Shape(settings.status_value_types, state.result_rng())
    if settings.status_queue_timeout:
        result = _failure(ack, now, QUEUE_TIMEOUT, shape, result_type=1)
        url, kind = urls["QueueTimeOutURL"], "transaction_status_timeout"
    else:
        url, kind = urls["ResultURL"], "transaction_status_result"
        if not _initiator_valid(state, settings, initiator, credential):
            result = _failure(ack, now, INVALID_INITIATOR, shape)
        elif tx is None or tx.shortcode != party_a or tx.status != COMPLETED:
            result = _failure(ack, now, UNKNOWN_RECEIPT, shape)
        else:
            result = _success(state, ack, tx, settings.display_name, occasion, shape)
    state.workers.spawn(_deliver, state, url, result, kind, name="status-result")
    return ack


class Shape:
    """How one result is dressed: in production numbers are numbers, the documentation writes
    them as strings, and ``mixed`` tosses a coin for each value. Parameters come in a shuffled
    order and ``ReferenceItem`` is an object or a one-element list, per result."""

    def __init__(self, value_types: str, rng: random.Random) -> None:
        self.value_types = value_types
        self.rng = rng

    def _as_string(self) -> bool:
        if self.value_types == "mixed":
            return self.rng.random() < 0.5
        return self.value_types == "strings"

    def code(self, value: int | str) -> int | str:
        """A numeric ResultCode (0, 2001); alphanumeric ones (R000002) are always strings."""
        if isinstance(value, str) or not self._as_string():
            return value
        return str(value)

    def number(self, value: int | Decimal) -> int | float | str:
        if self._as_string():
            return f"{value:.2f}" if isinstance(value, Decimal) else str(value)
        return float(value) if isinstance(value, Decimal) else value

    def order(self, parameters: list[dict[str, Any]]) -> list[dict[str, Any]]:
        shuffled = list(parameters)
        self.rng.shuffle(shuffled)
        return shuffled

    def reference(self, item: dict[str, Any]) -> dict[str, Any] | list[dict[str, Any]]:
        return [item] if self.rng.random() < 0.5 else item


def _failure(
    ack: dict[str, Any],
    now: datetime,
    outcome: tuple[int | str, str],
    shape: Shape,
    *,
    result_type: int = 0,
) -> dict[str, Any]:
    """Failures carry no ResultParameters at all."""
    code, description = outcome
    return {
        "Result": {
            "ResultType": result_type,
            "ResultCode": shape.code(code),
            "ResultDesc": description,
            "OriginatorConversationID": ack["OriginatorConversationID"],
            "ConversationID": ack["ConversationID"],
            "TransactionID": empty_receipt(now),
            "ReferenceData": {
                "ReferenceItem": shape.reference(
                    {"Key": "QueueTimeoutURL", "Value": INTERNAL_TIMEOUT_URL}
                )
            },
        }
    }


def _success(
    state: EmulatorState,
    ack: dict[str, Any],
    tx: Transaction,
    org_name: str,
    occasion: str,
    shape: Shape,
) -> dict[str, Any]:
    completed_at = state.ledger.read(lambda: tx.completed_at) or tx.initiated_at
    # Keys without "Value" are a real quirk of these results; a parser must cope.
    parameters: list[dict[str, Any]] = [
        {"Key": "DebitPartyName", "Value": tx.other_party},
        {"Key": "CreditPartyName", "Value": f"{tx.shortcode} - {org_name}"},
        {"Key": "OriginatorConversationID", "Value": ack["OriginatorConversationID"]},
        {"Key": "InitiatedTime", "Value": shape.number(int(mpesa_timestamp(tx.initiated_at)))},
        {"Key": "CreditPartyCharges"},
        {"Key": "DebitAccountType"},
        {"Key": "TransactionReason"},
        {"Key": "ReasonType", "Value": tx.reason_type},
        {"Key": "TransactionStatus", "Value": "Completed"},
        {"Key": "FinalisedTime", "Value": shape.number(int(mpesa_timestamp(completed_at)))},
        {"Key": "Amount", "Value": shape.number(tx.amount)},
        {"Key": "ConversationID", "Value": ack["ConversationID"]},
        {"Key": "ReceiptNo", "Value": tx.trans_id},
    ]
    occasion_item: dict[str, Any] = {"Key": "Occasion"}
    if occasion:
        occasion_item["Value"] = occasion
    now = state.clock.now()
    return {
        "Result": {
            "ResultType": 0,
            "ResultCode": shape.code(0),
            "ResultDesc": "The service request is processed successfully.",
            "OriginatorConversationID": ack["OriginatorConversationID"],
            "ConversationID": ack["ConversationID"],
            # A placeholder, like MBN0000000 in the docs and SB60000000 seen in production: the
            # payment's receipt is ReceiptNo, never this.
            "TransactionID": empty_receipt(now),
            "ResultParameters": {"ResultParameter": shape.order(parameters)},
            "ReferenceData": {"ReferenceItem": shape.reference(occasion_item)},
        }
    }


def _deliver(state: EmulatorState, url: str, result: dict[str, Any], kind: str) -> None:
    if not state.workers.sleep(state.settings.result_delay):
        return
    delivery, _ = post_json(
        url,
        result,
        kind=kind,
        timeout=state.settings.confirmation_timeout,
        now=state.clock.now(),
    )
    state.record_result_delivery(delivery)
