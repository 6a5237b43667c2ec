"""Scripted payment streams: N payments from M members, with chosen fault rates, in the
background. Seeded, so a demo or a test replays the same payers, amounts and faults (receipt
numbers stay random: they must be unique across runs)."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from daraja_emulator import ids
from daraja_emulator.clock import to_eat
from daraja_emulator.ledger import BUY_GOODS, COMPLETED, PAYBILL, Transaction
from daraja_emulator.payers import Payer, callback_names, normalise_phone
from daraja_emulator.payments import PaymentRequest, start_payment
from daraja_emulator.settings import SHORTCODE_RE, ConfigError
from daraja_emulator.state import EmulatorState

RATES = (
    "duplicate_rate",
    "drop_rate",
    "delay_rate",
    "extra_key_rate",
    "invalid_account_rate",
    "messy_account_rate",
)


@dataclass(frozen=True)
class Member:
    account: str
    payer: Payer


@dataclass
class ScenarioSpec:
    shortcode: str
    payments: int = 10
    members: int = 5
    member_list: list[Member] | None = None
    seed: int | None = None
    pace: float = 5.0
    duplicate_rate: float = 0.0
    drop_rate: float = 0.0
    delay_rate: float = 0.0
    delay_seconds: float = 2.0
    extra_key_rate: float = 0.0
    invalid_account_rate: float = 0.0
    messy_account_rate: float = 0.0
    amount_min: int = 50
    amount_max: int = 5000
    command_id: str = PAYBILL
    api_version: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScenarioSpec:
        allowed = set(cls.__dataclass_fields__) - {"member_list"}
        unknown = sorted(set(data) - allowed)
        if unknown:
            raise ConfigError(f"scenario: unknown key(s) {', '.join(unknown)}")
        raw_members = data.get("members", 5)
        values = dict(data)
        if isinstance(raw_members, list):
            values["member_list"] = [member_from_dict(item) for item in raw_members]
            values["members"] = len(raw_members)
        spec = cls(**values)
        spec.validate()
        return spec

    def validate(self) -> None:
        if not SHORTCODE_RE.match(str(self.shortcode)):
            raise ConfigError("shortcode must be 5 to 7 digits")
        self.shortcode = str(self.shortcode)
        if not isinstance(self.payments, int) or not 0 <= self.payments <= 100_000:
            raise ConfigError("payments must be a whole number from 0 to 100000")
        if not isinstance(self.members, int) or self.members < 1:
            raise ConfigError("members must be a whole number >= 1 or a list of members")
        if self.member_list is not None and not self.member_list:
            raise ConfigError("members list must not be empty")
        if not isinstance(self.pace, int | float) or self.pace <= 0:
            raise ConfigError("pace (payments per second) must be > 0")
        for name in RATES:
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ConfigError(f"{name} must be between 0 and 1")
        if not 1 <= self.amount_min <= self.amount_max <= 250_000:
            raise ConfigError("need 1 <= amount_min <= amount_max <= 250000")
        if self.command_id not in (PAYBILL, BUY_GOODS):
            raise ConfigError(f"command_id must be {PAYBILL} or {BUY_GOODS}")
        if self.api_version not in (None, "v1", "v2"):
            raise ConfigError("api_version must be v1 or v2")


def member_from_dict(data: dict[str, Any]) -> Member:
    """Accepts the column names a member registry CSV is likely to use."""
    if not isinstance(data, dict):
        raise ConfigError("each member must be an object")
    lowered = {str(k).strip().lower(): v for k, v in data.items()}

    def pick(*names: str) -> str:
        for name in names:
            value = lowered.get(name)
            if value not in (None, ""):
                return str(value).strip()
        return ""

    account = pick("account", "member_number", "member_no", "account_number", "account_no")
    phone = pick("phone", "phone_number", "msisdn", "mobile")
    if not account or not phone:
        raise ConfigError(f"member needs an account/member_number and a phone: {data}")
    first = pick("first_name", "firstname")
    middle = pick("middle_name", "middlename")
    last = pick("last_name", "lastname", "surname")
    if not first:
        parts = pick("name", "full_name").split()
        if parts:
            first, middle = parts[0], " ".join(parts[1:-1])
            last = parts[-1] if len(parts) > 1 else ""
    if not first:
        raise ConfigError(f"member needs a first_name or name: {data}")
    try:
        msisdn = normalise_phone(phone)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    return Member(account, Payer(msisdn, first.upper(), middle.upper(), last.upper()))


def generated_members(
    rng: random.Random, count: int, directory_get: Callable[[str], Payer]
) -> list[Member]:
    """Invented members ``M1001``, ``M1002``... with unique phones and their stable names."""
    members: list[Member] = []
    phones: set[str] = set()
    while len(members) < count:
        msisdn = f"2547{rng.randrange(10**8):08d}"
        if msisdn in phones:
            continue
        phones.add(msisdn)
        payer = directory_get(msisdn)
        members.append(Member(f"M{1001 + len(members)}", payer))
    return members


def _invalid_account(rng: random.Random, valid: set[str]) -> str:
    while True:
        candidate = f"X{rng.randrange(10**6):06d}"
        if candidate not in valid:
            return candidate


def _messy(rng: random.Random, account: str) -> str:
    """How customers really type: lower case, stray spaces."""
    return rng.choice(
        [account.lower(), f" {account}", f"{account} ", account[:1] + " " + account[1:]]
    )


@dataclass
class Scenario:
    id: str
    spec: ScenarioSpec
    status: str = "pending"
    submitted: int = 0
    invalid_accounts: int = 0
    messy_accounts: int = 0
    injected: dict[str, int] = field(
        default_factory=lambda: {"duplicate": 0, "drop": 0, "delay": 0, "extra_key": 0}
    )
    transactions: list[Transaction] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    error: str = ""
    started_at: str = ""
    finished_at: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def to_dict(self, state: EmulatorState) -> dict[str, Any]:
        with self.lock:
            txs = list(self.transactions)
            data: dict[str, Any] = {
                "id": self.id,
                "status": self.status,
                "shortcode": self.spec.shortcode,
                "payments": self.spec.payments,
                "submitted": self.submitted,
                "seed": self.spec.seed,
                "invalid_accounts": self.invalid_accounts,
                "messy_accounts": self.messy_accounts,
                "faults_injected": dict(self.injected),
                "error": self.error,
                "started_at": self.started_at,
                "finished_at": self.finished_at,
                "members": [
                    {
                        "account": m.account,
                        "phone": m.payer.msisdn,
                        "first_name": m.payer.first_name,
                        "middle_name": m.payer.middle_name,
                        "last_name": m.payer.last_name,
                    }
                    for m in self.members
                ],
            }

        def summarise() -> tuple[dict[str, int], int, str, list[str]]:
            by_status: dict[str, int] = {}
            total = Decimal("0.00")
            for tx in txs:
                by_status[tx.status] = by_status.get(tx.status, 0) + 1
                if tx.status == COMPLETED:
                    total += tx.amount
            finished = sum(1 for tx in txs if tx.done.is_set())
            return by_status, finished, f"{total:.2f}", [tx.trans_id for tx in txs]

        by_status, finished, total, trans_ids = state.ledger.read(summarise)
        data |= {
            "processed": finished,
            "by_status": by_status,
            "completed_amount": total,
            "trans_ids": trans_ids,
        }
        return data


def start_scenario(state: EmulatorState, spec: ScenarioSpec) -> Scenario:
    scenario = Scenario(id=ids.gateway_id(), spec=spec)
    state.shortcode(spec.shortcode)  # auto-create (or fail) now, not in the background
    with state.lock:
        state.scenarios[scenario.id] = scenario
    state.workers.spawn(_run, state, scenario, name=f"scenario-{scenario.id}")
    return scenario


def _run(state: EmulatorState, scenario: Scenario) -> None:
    spec = scenario.spec
    rng = random.Random(spec.seed)
    with scenario.lock:
        scenario.status = "running"
        scenario.started_at = to_eat(state.clock.now()).isoformat()
    try:
        members = spec.member_list or generated_members(rng, spec.members, state.payers.get)
        for member in members:
            state.payers.add(member.payer)
        with scenario.lock:
            scenario.members = members
        valid = {m.account for m in members}
        with state.lock:
            names_shape = state.shortcodes[spec.shortcode].settings.names
        interval = 1.0 / spec.pace
        for _ in range(spec.payments):
            request = _next_payment(rng, spec, members, valid, scenario)
            request.names = callback_names(state.payers.get(request.msisdn), names_shape, rng)
            tx = start_payment(state, request)
            with scenario.lock:
                scenario.transactions.append(tx)
                scenario.submitted += 1
            if not state.workers.sleep(interval):
                raise RuntimeError("emulator stopped")
        with scenario.lock:
            txs = list(scenario.transactions)
        for tx in txs:
            while not tx.done.wait(0.1):
                if state.workers.stopping.is_set():
                    raise RuntimeError("emulator stopped")
        status = "finished"
    except Exception as exc:  # report, do not kill the server thread silently
        status = "failed"
        with scenario.lock:
            scenario.error = f"{type(exc).__name__}: {exc}"
    with scenario.lock:
        scenario.status = status
        scenario.finished_at = to_eat(state.clock.now()).isoformat()


def _next_payment(
    rng: random.Random,
    spec: ScenarioSpec,
    members: list[Member],
    valid: set[str],
    scenario: Scenario,
) -> PaymentRequest:
    member = rng.choice(members)
    amount = Decimal(rng.randint(spec.amount_min, spec.amount_max)).quantize(Decimal("0.01"))
    account = member.account
    if rng.random() < spec.invalid_account_rate:
        account = _invalid_account(rng, valid)
        with scenario.lock:
            scenario.invalid_accounts += 1
    elif rng.random() < spec.messy_account_rate:
        account = _messy(rng, account)
        with scenario.lock:
            scenario.messy_accounts += 1
    faults: dict[str, Any] = {}
    if rng.random() < spec.duplicate_rate:
        faults["duplicate"] = True
    if rng.random() < spec.drop_rate:
        faults["drop"] = True
    if rng.random() < spec.delay_rate:
        faults["delay"] = spec.delay_seconds
    if rng.random() < spec.extra_key_rate:
        faults["extra_key"] = True
    with scenario.lock:
        for name in faults:
            scenario.injected[name] += 1
    return PaymentRequest(
        shortcode=spec.shortcode,
        command_id=spec.command_id,
        amount=amount,
        msisdn=member.payer.msisdn,
        bill_ref=account[:20] if spec.command_id == PAYBILL else "",
        source=f"scenario:{scenario.id}",
        api_version=spec.api_version,
        faults=faults,
    )
