"""Transaction Status query: a synchronous acknowledgement, then the result on ResultURL."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from daraja_emulator import errors, fields
from daraja_emulator.clock import mpesa_timestamp
from daraja_emulator.delivery import post_json
from daraja_emulator.ids import conversation_id, empty_receipt, gateway_id, receipt_number
from daraja_emulator.ledger import COMPLETED, Transaction
from daraja_emulator.payers import portal_msisdn
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


def _security_credential(body: dict[str, Any]) -> None:
    """Real Daraja RSA-decrypts this with its private key; the emulator cannot, so it only
    insists on non-empty, well-formed base64."""
    value = fields.required_str(body, "SecurityCredential", max_length=4096)
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise errors.invalid_field("SecurityCredential", "not base64") from exc


def query(state: EmulatorState, body: dict[str, Any]) -> dict[str, Any]:
    initiator = fields.required_str(body, "Initiator")
    _security_credential(body)
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
    if initiator != settings.initiator:
        result = _failure(ack, now, INVALID_INITIATOR)
    elif tx is None or tx.shortcode != party_a or tx.status != COMPLETED:
        result = _failure(ack, now, UNKNOWN_RECEIPT)
    else:
        result = _success(state, ack, tx, settings.display_name, occasion)
    state.workers.spawn(_deliver, state, urls["ResultURL"], result, name="status-result")
    return ack


def _failure(ack: dict[str, Any], now: datetime, outcome: tuple[int | str, str]) -> dict[str, Any]:
    code, description = outcome
    return {
        "Result": {
            "ResultType": 0,
            "ResultCode": code,
            "ResultDesc": description,
            "OriginatorConversationID": ack["OriginatorConversationID"],
            "ConversationID": ack["ConversationID"],
            "TransactionID": empty_receipt(now),
            "ReferenceData": {
                "ReferenceItem": {"Key": "QueueTimeoutURL", "Value": INTERNAL_TIMEOUT_URL}
            },
        }
    }


def _success(
    state: EmulatorState, ack: dict[str, Any], tx: Transaction, org_name: str, occasion: str
) -> dict[str, Any]:
    completed_at = state.ledger.read(lambda: tx.completed_at) or tx.initiated_at
    initiated = int(mpesa_timestamp(tx.initiated_at))
    finalised = int(mpesa_timestamp(completed_at))
    amount = float(tx.amount)
    debit_party = f"{portal_msisdn(tx.payer.msisdn)} - {tx.payer.display_name}"
    # Keys without "Value" are a real quirk of these results; a parser must cope.
    parameters: list[dict[str, Any]] = [
        {"Key": "DebitPartyName", "Value": debit_party},
        {"Key": "CreditPartyName", "Value": f"{tx.shortcode} - {org_name}"},
        {"Key": "OriginatorConversationID", "Value": ack["OriginatorConversationID"]},
        {"Key": "InitiatedTime", "Value": initiated},
        {"Key": "CreditPartyCharges"},
        {"Key": "DebitAccountType"},
        {"Key": "TransactionReason"},
        {"Key": "ReasonType", "Value": tx.reason_type},
        {"Key": "TransactionStatus", "Value": "Completed"},
        {"Key": "FinalisedTime", "Value": finalised},
        {"Key": "Amount", "Value": amount},
        {"Key": "ConversationID", "Value": ack["ConversationID"]},
        {"Key": "ReceiptNo", "Value": tx.trans_id},
    ]
    occasion_item: dict[str, Any] = {"Key": "Occasion"}
    if occasion:
        occasion_item["Value"] = occasion
    return {
        "Result": {
            "ResultType": 0,
            "ResultCode": 0,
            "ResultDesc": "The service request is processed successfully.",
            "OriginatorConversationID": ack["OriginatorConversationID"],
            "ConversationID": ack["ConversationID"],
            # The query is itself an M-Pesa transaction with its own receipt.
            "TransactionID": receipt_number(state.clock.now()),
            "ResultParameters": {"ResultParameter": parameters},
            "ReferenceData": {"ReferenceItem": occasion_item},
        }
    }


def _deliver(state: EmulatorState, url: str, result: dict[str, Any]) -> None:
    if not state.workers.sleep(state.settings.result_delay):
        return
    delivery, _ = post_json(
        url,
        result,
        kind="transaction_status_result",
        timeout=state.settings.confirmation_timeout,
        now=state.clock.now(),
    )
    state.record_result_delivery(delivery)
