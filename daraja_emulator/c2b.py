"""C2B Register URL and Simulate, v1 and v2."""

from __future__ import annotations

from typing import Any

from daraja_emulator import errors, fields
from daraja_emulator.ids import gateway_id
from daraja_emulator.ledger import BUY_GOODS, PAYBILL
from daraja_emulator.payments import PaymentRequest, start_payment
from daraja_emulator.state import EmulatorState, Registration, Shortcode
from daraja_emulator.urlrules import url_problem

RESPONSE_TYPES = ("Completed", "Cancelled")


def _entitled(shortcode: Shortcode, version: str) -> None:
    """The SACCO's Daraja app carries one C2B product version; the other one is not theirs."""
    if shortcode.settings.api_version != version:
        raise errors.no_apiproduct_match()


def register_url(state: EmulatorState, version: str, body: dict[str, Any]) -> dict[str, Any]:
    number = fields.shortcode(body, strings_only=True)
    shortcode = state.shortcode(number)
    _entitled(shortcode, version)
    response_type = body.get("ResponseType")
    if response_type not in RESPONSE_TYPES:
        raise errors.invalid_field("ResponseType", "must be Completed or Cancelled")
    production = shortcode.settings.mode == "production"
    urls: dict[str, str] = {}
    for name in ("ConfirmationURL", "ValidationURL"):
        value = body.get(name)
        problem = url_problem(
            value, https_only=production, allow_local=state.settings.allow_localhost
        )
        if problem:
            raise errors.rejected_url(name, problem)
        urls[name] = str(value)
    with state.lock:
        # Production URLs can only be changed by deleting them through Safaricom (see the
        # control API's DELETE .../urls); the sandbox simply overwrites.
        if production and shortcode.registration is not None:
            raise errors.urls_already_registered()
        shortcode.registration = Registration(
            confirmation_url=urls["ConfirmationURL"],
            validation_url=urls["ValidationURL"],
            response_type=str(response_type),
            api_version=version,
            registered_at=state.clock.now(),
        )
        legacy = shortcode.settings.legacy_register_reply
    if legacy:
        # What v1 answered for years: no ResponseCode, lower-case "success".
        return {
            "ConversationID": "",
            "OriginatorCoversationID": "",
            "ResponseDescription": "success",
        }
    return {
        "OriginatorCoversationID": gateway_id(),
        "ResponseCode": "0",
        "ResponseDescription": "Success",
    }


def parse_payment(body: dict[str, Any], *, msisdn_field: str = "Msisdn") -> dict[str, Any]:
    """The fields Simulate (and the control API's simulate) share."""
    command_id = body.get("CommandID")
    if command_id not in (PAYBILL, BUY_GOODS):
        raise errors.invalid_field("CommandID")
    return {
        "command_id": command_id,
        "amount": fields.amount(body),
        "msisdn": fields.msisdn(body, msisdn_field),
        "bill_ref": fields.bill_ref(body, command_id),
    }


def simulate(state: EmulatorState, version: str, body: dict[str, Any]) -> dict[str, Any]:
    number = fields.shortcode(body)
    shortcode = state.shortcode(number)
    _entitled(shortcode, version)
    if shortcode.settings.mode == "production":
        # Simulate exists only in the sandbox; production apps have no product for it.
        raise errors.no_apiproduct_match()
    payment = parse_payment(body)
    with state.lock:
        registered = shortcode.registration is not None
    if not registered:
        raise errors.ApiError(
            400, "400.003.02", f"Bad Request - No URLs are registered for ShortCode {number}"
        )
    start_payment(state, PaymentRequest(shortcode=number, source="simulate", **payment))
    return {
        "OriginatorCoversationID": gateway_id(),
        "ResponseCode": "0",
        "ResponseDescription": "Accept the service request successfully.",
    }
