"""A customer pays: validation (if enabled), the money moves, the confirmation goes out.

Each payment runs in its own background thread, like M-Pesa's asynchronous callbacks.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from daraja_emulator.clock import mpesa_timestamp
from daraja_emulator.delivery import post_json
from daraja_emulator.ledger import CANCELLED, REJECTED, Transaction
from daraja_emulator.payers import Payer, callback_msisdn, callback_names
from daraja_emulator.settings import Faults, ShortcodeSettings
from daraja_emulator.state import EmulatorState, Registration

DEFAULT_EXTRA_KEY = "UnexpectedKey"


@dataclass
class PaymentRequest:
    shortcode: str
    command_id: str
    amount: Decimal
    msisdn: str
    bill_ref: str
    source: str
    api_version: str | None = None
    faults: dict[str, Any] | None = None
    names: dict[str, str] | None = None
    msisdn_in_callbacks: str | None = None
    trans_time: datetime | None = None
    trans_id: str | None = None
    # False: the control API's direct ledger insert; completes at once and sends nothing.
    deliver: bool = True
    # With deliver=False: "Failed", "Cancelled" or "Declined" records an attempt that moved no
    # money instead of a completed payment.
    failed_status: str | None = None


def start_payment(state: EmulatorState, request: PaymentRequest) -> Transaction:
    """Record the payment as pending and process it in the background."""
    shortcode = state.shortcode(request.shortcode)
    with state.lock:
        settings = shortcode.settings
        registration = shortcode.registration
    payer = state.payers.get(request.msisdn)
    # Callbacks take the shape of the API version the URLs were registered through.
    version = request.api_version or (
        registration.api_version if registration else settings.api_version
    )
    now = state.clock.now()
    initiated_at = request.trans_time or now
    tx = Transaction(
        trans_id=request.trans_id or state.ledger.new_trans_id(initiated_at),
        shortcode=settings.shortcode,
        command_id=request.command_id,
        amount=request.amount,
        payer=payer,
        bill_ref=request.bill_ref,
        initiated_at=initiated_at,
        api_version=version,
        names=_names(state, request, payer, settings.names),
        msisdn_in_callbacks=request.msisdn_in_callbacks or callback_msisdn(payer.msisdn, version),
        faults=settings.faults.merged(request.faults),
        source=request.source,
        clock_shift=initiated_at - now,
    )
    state.ledger.add(tx)
    if not request.deliver:
        if request.failed_status:
            state.ledger.fail(
                tx, initiated_at, request.failed_status, opening_balance=settings.opening_balance
            )
        else:
            state.ledger.complete(
                tx,
                lambda: initiated_at,
                opening_balance=settings.opening_balance,
                tariff=settings.payment_charge,
            )
        state.ledger.note(tx, "inserted through the control API: no callbacks")
        tx.done.set()
        return tx
    state.workers.spawn(_process, state, tx, settings, registration, name=f"payment-{tx.trans_id}")
    return tx


def _names(
    state: EmulatorState, request: PaymentRequest, payer: Payer, shape: str
) -> dict[str, str]:
    if request.names is not None:
        return request.names
    return state.draw(lambda rng: callback_names(payer, shape, rng))


def callback_body(tx: Transaction, *, balance: str, third_party_trans_id: str) -> dict[str, Any]:
    """The validation/confirmation body, keys in the order M-Pesa sends them."""
    body: dict[str, Any] = {
        "TransactionType": tx.transaction_type,
        "TransID": tx.trans_id,
        "TransTime": mpesa_timestamp(tx.initiated_at),
        "TransAmount": f"{tx.amount:.2f}",
        "BusinessShortCode": tx.shortcode,
        "BillRefNumber": tx.bill_ref,
        "InvoiceNumber": "",
        "OrgAccountBalance": balance,
        "ThirdPartyTransID": third_party_trans_id,
        "MSISDN": tx.msisdn_in_callbacks,
    }
    body.update(tx.names)
    if tx.faults.extra_key:
        key = tx.faults.extra_key if isinstance(tx.faults.extra_key, str) else DEFAULT_EXTRA_KEY
        body[key] = "added by daraja-emulator fault injection"
    return body


def _process(
    state: EmulatorState,
    tx: Transaction,
    settings: ShortcodeSettings,
    registration: Registration | None,
) -> None:
    """The payment's life after Simulate answered. ``settings`` and ``registration`` are the
    ones in force when the customer paid, so a reset or reconfiguration mid-flight is safe."""
    try:
        third_party = ""
        if registration is None:
            state.ledger.note(tx, "no callback URLs registered: nothing was sent")
        elif settings.external_validation:
            verdict, detail = _validate(state, tx, registration)
            if verdict == REJECTED:
                state.ledger.finish(tx, REJECTED, detail)
                return
            if verdict == CANCELLED:
                state.ledger.finish(tx, CANCELLED, detail)
                return
            third_party = detail
        # A back-dated payment completes as long after its trans_time as it really took.
        balance = state.ledger.complete(
            tx,
            lambda: state.clock.now() + tx.clock_shift,
            opening_balance=settings.opening_balance,
            tariff=settings.payment_charge,
        )
        state.ledger.update(tx, lambda t: setattr(t, "third_party_trans_id", third_party))
        if registration is not None:
            _confirm(state, tx, registration, f"{balance:.2f}", third_party)
    finally:
        tx.done.set()


def _validate(state: EmulatorState, tx: Transaction, registration: Registration) -> tuple[str, str]:
    """Returns ("accepted", ThirdPartyTransID), ("rejected", ResultCode) or ("cancelled", why).

    Only a JSON object with ``ResultCode`` "0" (or 0) from a 2xx reply counts as an answer
    that accepts; any other ResultCode rejects. No answer in time, a connection error, a
    non-2xx status or a body without ResultCode all mean "no answer": M-Pesa then applies the
    registered ResponseType.
    """
    body = callback_body(tx, balance="", third_party_trans_id="")
    delivery, reply = post_json(
        registration.validation_url,
        body,
        kind="validation",
        timeout=state.settings.validation_timeout,
        now=state.clock.now(),
    )
    state.ledger.record_delivery(tx, delivery)
    answered = (
        delivery.status_code is not None
        and 200 <= delivery.status_code < 300
        and isinstance(reply, dict)
        and "ResultCode" in reply
    )
    if answered:
        code = str(reply["ResultCode"]).strip()
        if code == "0":
            third = reply.get("ThirdPartyTransID")
            return "accepted", third if isinstance(third, str) else ""
        return REJECTED, f"validation rejected with ResultCode {code}"
    why = delivery.error or f"HTTP {delivery.status_code} without a usable ResultCode"
    if registration.response_type == "Completed":
        state.ledger.note(tx, f"validation unanswered ({why}); ResponseType Completed applied")
        return "accepted", ""
    return CANCELLED, f"validation unanswered ({why}); ResponseType Cancelled applied"


def _confirm(
    state: EmulatorState, tx: Transaction, registration: Registration, balance: str, third: str
) -> None:
    faults: Faults = tx.faults
    if faults.drop:
        state.ledger.note(tx, "confirmation dropped by fault injection")
        return
    if faults.delay and not state.workers.sleep(faults.delay):
        state.ledger.note(tx, "emulator stopped before the delayed confirmation was sent")
        return
    body = callback_body(tx, balance=balance, third_party_trans_id=third)
    copies = 2 if faults.duplicate else 1

    def send() -> None:
        delivery, _ = post_json(
            registration.confirmation_url,
            body,
            kind="confirmation",
            timeout=state.settings.confirmation_timeout,
            now=state.clock.now(),
        )
        state.ledger.record_delivery(tx, delivery)

    if faults.duplicate == "parallel":
        threads = [threading.Thread(target=send, daemon=True) for _ in range(copies)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:
        for _ in range(copies):
            send()
