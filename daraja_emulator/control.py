"""The ``/emulator/`` control surface: configure, drive and inspect the emulator.

No authentication: it is a local test tool. Errors use the same envelope as the Daraja API.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Any

from daraja_emulator import errors, fields, statement
from daraja_emulator.c2b import parse_payment
from daraja_emulator.clock import parse_local, to_eat
from daraja_emulator.delivery import post_json
from daraja_emulator.ledger import (
    ACCOUNT_NAMES,
    ACCOUNTS,
    COMPLETED,
    FAILED_STATUSES,
    PORTAL_COMPLETED,
    SETTLEMENT,
    TX_STATUSES,
    UTILITY,
    ZERO,
    LedgerError,
)
from daraja_emulator.payers import Payer
from daraja_emulator.payments import PaymentRequest, callback_body, start_payment
from daraja_emulator.scenario import ScenarioSpec, start_scenario
from daraja_emulator.settings import (
    API_VERSIONS,
    SHORTCODE_RE,
    ConfigError,
    Faults,
    ShortcodeSettings,
    parse_money,
)
from daraja_emulator.state import EmulatorState

VERSION = "1.0"
_RECEIPT_RE = re.compile(r"^[A-Z0-9]{10}$")
_SIMULATE_EXTRAS = {
    "faults", "api_version", "names", "msisdn_in_callbacks", "payer", "trans_time", "trans_id",
    "wait", "wait_timeout",
}  # fmt: skip
_SIMULATE_FIELDS = {"ShortCode", "CommandID", "Amount", "Msisdn", "BillRefNumber"}
_STATEMENT_QUERY = {"shortcode", "since", "until", "account"} | statement.Format.parameters()


def control_error(message: str, status: int = 400) -> errors.ApiError:
    return errors.ApiError(status, f"emulator.{status}", message)


def health(state: EmulatorState) -> dict[str, Any]:
    with state.lock:
        shortcodes = len(state.shortcodes)
    return {
        "status": "ok",
        "version": VERSION,
        "time": to_eat(state.clock.now()).isoformat(),
        "shortcodes": shortcodes,
        "transactions": len(state.ledger.transactions()),
        "background_threads": state.workers.busy(),
    }


def list_shortcodes(state: EmulatorState) -> dict[str, Any]:
    with state.lock:
        return {"shortcodes": [s.to_dict() for s in state.shortcodes.values()]}


def get_shortcode(state: EmulatorState, number: str) -> dict[str, Any]:
    with state.lock:
        entry = state.shortcodes.get(number)
        if entry is None:
            raise control_error(f"unknown shortcode {number}", 404)
        return entry.to_dict()


def configure_shortcode(state: EmulatorState, body: dict[str, Any]) -> dict[str, Any]:
    """Create or partially update a shortcode; registrations are kept."""
    try:
        entry, created = state.configure_shortcode(body)
    except ConfigError as exc:
        raise control_error(str(exc)) from exc
    with state.lock:
        return {"created": created, "shortcode": entry.to_dict()}


def delete_urls(state: EmulatorState, number: str) -> dict[str, Any]:
    """What Safaricom support or the Org portal does: forget the registered URLs, so a
    production shortcode can register again."""
    with state.lock:
        entry = state.shortcodes.get(number)
        if entry is None:
            raise control_error(f"unknown shortcode {number}", 404)
        had = entry.registration is not None
        entry.registration = None
    return {"deleted": had}


def reset(state: EmulatorState) -> dict[str, Any]:
    state.reset()
    state.clock.reset()
    return {"status": "reset"}


def _openings(settings: ShortcodeSettings) -> dict[str, Decimal]:
    return {UTILITY: settings.opening_balance, SETTLEMENT: ZERO}


def _balances(state: EmulatorState, number: str, settings: ShortcodeSettings) -> dict[str, str]:
    return {
        account: f"{state.ledger.balance(number, opening, account):.2f}"
        for account, opening in _openings(settings).items()
    }


def ledger(state: EmulatorState, query: dict[str, str]) -> dict[str, Any]:
    shortcode = query.get("shortcode") or None
    status = query.get("status") or None
    if status is not None and status not in TX_STATUSES:
        raise control_error(f"status must be one of {', '.join(TX_STATUSES)}")
    txs = state.ledger.transactions(shortcode, status)
    with state.lock:
        accounts = {
            number: _balances(state, number, entry.settings)
            for number, entry in state.shortcodes.items()
            if shortcode is None or number == shortcode
        }
    return {
        "transactions": state.ledger.snapshot(txs),
        "balances": {number: both[UTILITY] for number, both in accounts.items()},
        "accounts": accounts,
    }


def lines(state: EmulatorState, query: dict[str, str]) -> dict[str, Any]:
    """Every line on a shortcode's accounts, oldest first, each with its account's balance."""
    number = query.get("shortcode", "")
    if not SHORTCODE_RE.match(number):
        raise control_error("lines needs ?shortcode=NNNNNN")
    account = query.get("account") or None
    if account is not None and account not in ACCOUNTS:
        raise control_error(f"account must be one of {', '.join(ACCOUNTS)}")
    found = state.ledger.lines(number, (account,) if account else ACCOUNTS)
    return {
        "lines": state.ledger.line_snapshot(found),
        "balances": _balances(state, number, state.settings_for(number)),
    }


def ledger_entry(state: EmulatorState, trans_id: str) -> dict[str, Any]:
    tx = state.ledger.get(trans_id)
    if tx is None:
        raise control_error(f"unknown transaction {trans_id}", 404)
    return state.ledger.snapshot([tx])[0]


def _payment_request(
    state: EmulatorState, body: dict[str, Any], source: str, extras: frozenset[str] = frozenset()
) -> PaymentRequest:
    unknown = sorted(set(body) - _SIMULATE_FIELDS - _SIMULATE_EXTRAS - extras)
    if unknown:
        raise control_error(f"unknown key(s) {', '.join(unknown)}")
    number = fields.shortcode(body)
    state.shortcode(number)
    payment = parse_payment(body)
    request = PaymentRequest(shortcode=number, source=source, **payment)
    try:
        Faults().merged(body.get("faults"))
    except ConfigError as exc:
        raise control_error(str(exc)) from exc
    request.faults = body.get("faults")
    version = body.get("api_version")
    if version is not None and version not in API_VERSIONS:
        raise control_error("api_version must be v1 or v2")
    request.api_version = version
    names = body.get("names")
    if names is not None:
        allowed = {"FirstName", "MiddleName", "LastName"}
        if (
            not isinstance(names, dict)
            or not set(names) <= allowed
            or not all(isinstance(v, str) for v in names.values())
        ):
            raise control_error(f"names must be an object with string keys among {allowed}")
        request.names = dict(names)
    override = body.get("msisdn_in_callbacks")
    if override is not None and not isinstance(override, str):
        raise control_error("msisdn_in_callbacks must be a string")
    request.msisdn_in_callbacks = override
    payer = body.get("payer")
    if payer is not None:
        if not isinstance(payer, dict) or not isinstance(payer.get("first_name"), str):
            raise control_error("payer must be {first_name, middle_name?, last_name?}")
        state.payers.add(
            Payer(
                request.msisdn,
                payer["first_name"].upper(),
                str(payer.get("middle_name", "")).upper(),
                str(payer.get("last_name", "")).upper(),
            )
        )
    if body.get("trans_time") is not None:
        request.trans_time = _time(body["trans_time"], "trans_time")
    trans_id = body.get("trans_id")
    if trans_id is not None:
        request.trans_id = _reserve(state, trans_id)
    return request


def _reserve(state: EmulatorState, trans_id: Any) -> str:
    if not isinstance(trans_id, str) or not _RECEIPT_RE.match(trans_id):
        raise control_error("trans_id must be 10 upper-case letters or digits")
    if not state.ledger.reserve_trans_id(trans_id):
        raise control_error(f"trans_id {trans_id} was already used", 409)
    return trans_id


def _receipt(state: EmulatorState, body: dict[str, Any], at: datetime) -> str:
    if body.get("trans_id") is not None:
        return _reserve(state, body["trans_id"])
    return state.ledger.new_trans_id(at)


def _check_keys(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise control_error(f"unknown key(s) {', '.join(unknown)}; allowed: {sorted(allowed)}")


def _time(value: Any, name: str, *, end_of_day: bool = False) -> datetime:
    if not isinstance(value, str):
        raise control_error(f"{name} must be a string (YYYYMMDDHHmmss or ISO 8601, EAT if naive)")
    try:
        return parse_local(value, end_of_day=end_of_day)
    except ValueError as exc:
        raise control_error(f"{name}: {exc}") from exc


def simulate(state: EmulatorState, body: dict[str, Any]) -> dict[str, Any]:
    """A customer pays, with optional faults. Unlike Daraja's Simulate this works for
    production shortcodes and without registered URLs (the payment then completes silently)."""
    request = _payment_request(state, body, "control")
    wait = body.get("wait", False)
    timeout = body.get("wait_timeout", 30)
    if not isinstance(wait, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise control_error("wait must be true/false and wait_timeout a number of seconds > 0")
    tx = start_payment(state, request)
    reply: dict[str, Any] = {
        "OriginatorCoversationID": "",
        "ResponseCode": "0",
        "ResponseDescription": "Accept the service request successfully.",
        "TransID": tx.trans_id,
    }
    if wait:
        reply["finished"] = tx.done.wait(float(timeout))
        reply["transaction"] = state.ledger.snapshot([tx])[0]
    return reply


def insert_ledger(state: EmulatorState, body: dict[str, Any]) -> dict[str, Any]:
    """A completed payment that never produced callbacks, at any time (``trans_time``): how
    tests put records into Pull's 48-hour window, or outside it. With ``transaction_status``
    Failed, Cancelled or Declined: an attempt that moved no money, for the statement."""
    request = _payment_request(state, body, "ledger", frozenset({"transaction_status"}))
    status = body.get("transaction_status", PORTAL_COMPLETED)
    if status not in (PORTAL_COMPLETED, *FAILED_STATUSES):
        raise control_error(
            f"transaction_status must be one of {', '.join((PORTAL_COMPLETED, *FAILED_STATUSES))}"
        )
    request.deliver = False
    request.failed_status = None if status == PORTAL_COMPLETED else status
    tx = start_payment(state, request)
    return state.ledger.snapshot([tx])[0]


def reverse(state: EmulatorState, trans_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Safaricom reverses a completed payment (what its support does on a customer's claim)."""
    _check_keys(body, {"trans_time", "trans_id"})
    tx = state.ledger.get(trans_id)
    if tx is None:
        raise control_error(f"unknown transaction {trans_id}", 404)
    at = _time(body["trans_time"], "trans_time") if body.get("trans_time") else state.clock.now()
    settings = state.settings_for(tx.shortcode)
    receipt = _receipt(state, body, at)
    try:
        line = state.ledger.reverse(tx, at, receipt, opening_balance=settings.opening_balance)
    except LedgerError as exc:
        raise control_error(str(exc), 409) from exc
    return {
        "reversal": state.ledger.line_snapshot([line])[0],
        "transaction": state.ledger.snapshot([tx])[0],
    }


def confirm(state: EmulatorState, trans_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """M-Pesa sends a completed payment's confirmation now: a callback that comes late (after
    being dropped) or a redelivery. Returns the payment with the delivery recorded on it."""
    _check_keys(body, set())
    tx = state.ledger.get(trans_id)
    if tx is None:
        raise control_error(f"unknown transaction {trans_id}", 404)
    with state.lock:
        registration = state.shortcode(tx.shortcode).registration
    snapshot = state.ledger.snapshot([tx])[0]
    if snapshot["status"] != COMPLETED:
        raise control_error(f"{trans_id} is {snapshot['status']}: only payments confirm", 409)
    if registration is None:
        raise control_error(f"no callback URLs are registered for {tx.shortcode}", 409)
    balance = state.ledger.read(lambda: tx.balance_after)
    payment_body = callback_body(
        tx,
        balance="" if balance is None else f"{balance:.2f}",
        third_party_trans_id=state.ledger.read(lambda: tx.third_party_trans_id),
    )
    delivery, _ = post_json(
        registration.confirmation_url,
        payment_body,
        kind="confirmation",
        timeout=state.settings.confirmation_timeout,
        now=state.clock.now(),
    )
    state.ledger.record_delivery(tx, delivery)
    return state.ledger.snapshot([tx])[0]


def transfer(state: EmulatorState, body: dict[str, Any]) -> dict[str, Any]:
    """Move money between the organisation's own accounts; by default a sweep of the whole
    Utility Account balance to the Organization Settlement Account."""
    _check_keys(body, {"shortcode", "amount", "from", "to", "trans_time", "trans_id"})
    number = str(body.get("shortcode", ""))
    if not SHORTCODE_RE.match(number):
        raise control_error("shortcode must be 5 to 7 digits")
    source, target = body.get("from", UTILITY), body.get("to", SETTLEMENT)
    if source not in ACCOUNTS or target not in ACCOUNTS or source == target:
        raise control_error(f"from and to must be two different accounts among {ACCOUNTS}")
    with state.lock:
        settings = state.shortcode(number).settings
    openings = _openings(settings)
    if body.get("amount") is None:
        amount = state.ledger.balance(number, openings[source], source)
    else:
        try:
            amount = parse_money(body["amount"], "amount")
        except ConfigError as exc:
            raise control_error(str(exc)) from exc
        if amount <= 0:
            raise control_error("amount must be more than 0.00")
    if amount <= 0:
        raise control_error(f"nothing to transfer from the {ACCOUNT_NAMES[source]}", 409)
    at = _time(body["trans_time"], "trans_time") if body.get("trans_time") else state.clock.now()
    receipt = _receipt(state, body, at)
    try:
        moved = state.ledger.transfer(
            number, amount, source, target, at, receipt, openings=openings
        )
    except LedgerError as exc:
        raise control_error(str(exc), 409) from exc
    return {
        "receipt": receipt,
        "lines": state.ledger.line_snapshot(moved),
        "balances": _balances(state, number, settings),
    }


def _statement(
    state: EmulatorState, query: dict[str, str]
) -> tuple[statement.Statement, statement.Format]:
    unknown = sorted(set(query) - _STATEMENT_QUERY)
    if unknown:
        raise control_error(
            f"unknown parameter(s) {', '.join(unknown)}; allowed: {sorted(_STATEMENT_QUERY)}"
        )
    number = query.get("shortcode", "")
    if not SHORTCODE_RE.match(number):
        raise control_error("the statement needs ?shortcode=NNNNNN")
    account = query.get("account") or UTILITY
    if account not in statement.STATEMENT_ACCOUNTS:
        raise control_error(f"account must be one of {', '.join(statement.STATEMENT_ACCOUNTS)}")
    try:
        fmt = statement.Format.from_query(query)
    except ValueError as exc:
        raise control_error(str(exc)) from exc
    since = _time(query["since"], "since") if query.get("since") else None
    until = _time(query["until"], "until", end_of_day=True) if query.get("until") else None
    built = statement.build(state, number, account=account, since=since, until=until)
    return built, fmt


def statement_csv(state: EmulatorState, query: dict[str, str]) -> str:
    return statement.to_csv(*_statement(state, query))


def statement_xlsx(state: EmulatorState, query: dict[str, str]) -> bytes:
    return statement.to_xlsx(*_statement(state, query))


def start(state: EmulatorState, body: dict[str, Any]) -> dict[str, Any]:
    try:
        spec = ScenarioSpec.from_dict(body)
    except (ConfigError, TypeError) as exc:
        raise control_error(str(exc)) from exc
    scenario = start_scenario(state, spec)
    return scenario.to_dict(state)


def scenario_progress(state: EmulatorState, scenario_id: str) -> dict[str, Any]:
    with state.lock:
        scenario = state.scenarios.get(scenario_id)
    if scenario is None:
        raise control_error(f"unknown scenario {scenario_id}", 404)
    return scenario.to_dict(state)


def list_scenarios(state: EmulatorState) -> dict[str, Any]:
    with state.lock:
        scenarios = list(state.scenarios.values())
    return {"scenarios": [s.to_dict(state) for s in scenarios]}


def result_deliveries(state: EmulatorState) -> dict[str, Any]:
    with state.lock:
        return {"deliveries": [d.to_dict() for d in state.result_deliveries]}


def clock(state: EmulatorState, body: dict[str, Any] | None) -> dict[str, Any]:
    """Move the emulator's clock forward (token expiry, Pull's 48 hours) without sleeping."""
    if body:
        seconds = body.get("advance_seconds")
        if set(body) != {"advance_seconds"} or not isinstance(seconds, int | float) or seconds < 0:
            raise control_error('body must be {"advance_seconds": N} with N >= 0')
        state.clock.advance(seconds)
    return {"now": to_eat(state.clock.now()).isoformat()}
