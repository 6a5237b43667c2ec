"""Typed configuration: emulator-wide settings, per-shortcode settings and fault defaults.

Everything can come from a JSON file (``--config``), the control API or code; unknown keys are
errors, so a typo in a test fixture fails loudly instead of silently using a default.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

MODES = ("sandbox", "production")
API_VERSIONS = ("v1", "v2")
NAME_SHAPES = ("mixed", "first_only", "full")
STATUS_VALUE_TYPES = ("mixed", "numbers", "strings")
DEFAULT_INITIATOR_PASSWORD = "Safaricom999!*!"  # noqa: S105  (Daraja's public sandbox value)
SHORTCODE_RE = re.compile(r"^\d{5,7}$")


class ConfigError(ValueError):
    """A configuration value is wrong; the message names the key."""


def _check_keys(data: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)}; allowed: {sorted(allowed)}"
        )


def _as_bool(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{key} must be true or false")
    return value


def _as_seconds(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{key} must be a number of seconds >= 0")
    return float(value)


@dataclass(frozen=True)
class Faults:
    """Misbehaviour to inject into a confirmation delivery.

    ``duplicate``: false, true (send twice, one after the other) or ``"parallel"`` (two
    concurrent deliveries). ``delay``: seconds to wait before the confirmation. ``drop``: the
    payment completes but the confirmation is never sent. ``extra_key``: false, true or a key
    name to add to the validation and confirmation bodies.
    """

    duplicate: bool | str = False
    delay: float = 0.0
    drop: bool = False
    extra_key: bool | str = False

    def merged(self, overrides: dict[str, Any] | None) -> Faults:
        if not overrides:
            return self
        if not isinstance(overrides, dict):
            raise ConfigError("faults must be an object")
        _check_keys(overrides, {f.name for f in fields(Faults)}, "faults")
        changes: dict[str, Any] = {}
        if "duplicate" in overrides:
            value = overrides["duplicate"]
            if not (isinstance(value, bool) or value == "parallel"):
                raise ConfigError('faults.duplicate must be true, false or "parallel"')
            changes["duplicate"] = value
        if "delay" in overrides:
            changes["delay"] = _as_seconds(overrides["delay"], "faults.delay")
        if "drop" in overrides:
            changes["drop"] = _as_bool(overrides["drop"], "faults.drop")
        if "extra_key" in overrides:
            value = overrides["extra_key"]
            if not isinstance(value, bool | str) or value == "":
                raise ConfigError("faults.extra_key must be true, false or a key name")
            changes["extra_key"] = value
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ShortcodeSettings:
    """How one shortcode (paybill or till) behaves."""

    shortcode: str
    mode: str = "sandbox"
    api_version: str = "v2"
    external_validation: bool = False
    organization_name: str = ""
    opening_balance: Decimal = Decimal("0.00")
    initiator: str = "testapi"
    initiator_password: str = DEFAULT_INITIATOR_PASSWORD
    # Decrypt SecurityCredential with the emulator's key and compare it with the password;
    # false accepts any well-formed base64, as the emulator did before it had a key.
    strict_security_credential: bool = True
    # Per customer payment, withdrawn on its own statement line: "0" (none), a fixed amount
    # such as "5.00", or a percentage such as "0.55%".
    payment_charge: str = "0"
    status_value_types: str = "mixed"
    status_queue_timeout: bool = False
    names: str = "mixed"
    legacy_register_reply: bool = False
    faults: Faults = field(default_factory=Faults)

    @property
    def display_name(self) -> str:
        return self.organization_name or f"EMULATED ORGANISATION {self.shortcode}"

    def updated(self, data: dict[str, Any]) -> ShortcodeSettings:
        """A copy with ``data`` applied; validates every value."""
        allowed = {f.name for f in fields(ShortcodeSettings)} | {"number"}
        _check_keys(data, allowed, f"shortcode {self.shortcode}")
        changes: dict[str, Any] = {}
        for key, value in data.items():
            if key in ("shortcode", "number"):
                continue
            if key == "mode":
                if value not in MODES:
                    raise ConfigError(f"mode must be one of {MODES}")
            elif key == "api_version":
                if value not in API_VERSIONS:
                    raise ConfigError(f"api_version must be one of {API_VERSIONS}")
            elif key == "names":
                if value not in NAME_SHAPES:
                    raise ConfigError(f"names must be one of {NAME_SHAPES}")
            elif key == "status_value_types":
                if value not in STATUS_VALUE_TYPES:
                    raise ConfigError(f"status_value_types must be one of {STATUS_VALUE_TYPES}")
            elif key in (
                "external_validation",
                "legacy_register_reply",
                "strict_security_credential",
                "status_queue_timeout",
            ):
                value = _as_bool(value, key)
            elif key in ("organization_name", "initiator", "initiator_password"):
                if not isinstance(value, str) or (key != "organization_name" and not value):
                    raise ConfigError(f"{key} must be a string")
            elif key == "payment_charge":
                value = parse_tariff(value, key)
            elif key == "opening_balance":
                value = parse_money(value, key)
            elif key == "faults":
                value = self.faults.merged(value)
            changes[key] = value
        return replace(self, **changes)

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], base: dict[str, Any] | None = None
    ) -> ShortcodeSettings:
        number = str(data.get("shortcode", data.get("number", "")))
        if not SHORTCODE_RE.match(number):
            raise ConfigError(f"shortcode must be 5 to 7 digits, got {number!r}")
        settings = cls(shortcode=number)
        if base:
            settings = settings.updated(base)
        return settings.updated(data)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["opening_balance"] = f"{self.opening_balance:.2f}"
        data["faults"] = self.faults.to_dict()
        return data


def parse_tariff(value: Any, key: str) -> str:
    """``"5.00"`` (a fixed amount) or ``"0.55%"``; numbers are taken as fixed amounts."""
    text = str(value).strip() if isinstance(value, str | int | float) else ""
    percent = text.endswith("%")
    try:
        number = Decimal(text[:-1] if percent else text)
    except InvalidOperation as exc:
        raise ConfigError(f'{key} must be an amount ("5.00") or a percentage ("0.55%")') from exc
    if isinstance(value, bool) or not number.is_finite() or number < 0:
        raise ConfigError(f'{key} must be an amount ("5.00") or a percentage ("0.55%")')
    return f"{number}%" if percent else f"{number.quantize(Decimal('0.01'))}"


def parse_money(value: Any, key: str) -> Decimal:
    if isinstance(value, bool):
        raise ConfigError(f"{key} must be an amount")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ConfigError(f"{key} must be an amount") from exc
    if not amount.is_finite():
        raise ConfigError(f"{key} must be an amount")
    return amount.quantize(Decimal("0.01"))


@dataclass
class Settings:
    """Emulator-wide settings. Defaults are the real API's numbers; tests shrink the timeouts."""

    consumer_key: str = "demo-consumer-key"
    consumer_secret: str = "demo-consumer-secret"  # noqa: S105  (a public demo default)
    token_lifetime: int = 3600
    # Daraja's docs say a new token invalidates the previous one; unconfirmed, but the strict
    # reading is the safer one to test against.
    single_active_token: bool = True
    allow_localhost: bool = False
    validation_timeout: float = 8.0
    confirmation_timeout: float = 5.0
    result_delay: float = 0.5
    pull_page_size: int = 100
    auto_create_shortcodes: bool = True
    shortcode_defaults: dict[str, Any] = field(default_factory=dict)
    shortcodes: list[ShortcodeSettings] = field(default_factory=list)
    seed: int | None = None
    # Where the SecurityCredential key pair lives (created there if missing); None: a fresh
    # pair per process.
    key_dir: str | None = None

    def defaults_for(self, number: str) -> ShortcodeSettings:
        return ShortcodeSettings.from_dict({"shortcode": number}, self.shortcode_defaults)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        simple = {f.name for f in fields(cls)} - {"shortcodes", "shortcode_defaults"}
        _check_keys(data, simple | {"shortcodes", "shortcode_defaults"}, "config")
        settings = cls()
        for key in simple & set(data):
            setattr(settings, key, data[key])
        defaults = data.get("shortcode_defaults", {})
        if not isinstance(defaults, dict):
            raise ConfigError("shortcode_defaults must be an object")
        ShortcodeSettings.from_dict({"shortcode": "00000"}, defaults)  # validate early
        settings.shortcode_defaults = defaults
        raw = data.get("shortcodes", [])
        if not isinstance(raw, list):
            raise ConfigError("shortcodes must be a list of objects")
        settings.shortcodes = [ShortcodeSettings.from_dict(item, defaults) for item in raw]
        settings.validate()
        return settings

    @classmethod
    def from_file(cls, path: str | Path) -> Settings:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"config file {path} must hold a JSON object")
        return cls.from_dict(data)

    def validate(self) -> None:
        if not self.consumer_key or not self.consumer_secret:
            raise ConfigError("consumer_key and consumer_secret must not be empty")
        if not isinstance(self.token_lifetime, int) or self.token_lifetime < 2:
            raise ConfigError("token_lifetime must be a whole number of seconds >= 2")
        for key in ("validation_timeout", "confirmation_timeout", "result_delay"):
            setattr(self, key, _as_seconds(getattr(self, key), key))
        if not isinstance(self.pull_page_size, int) or self.pull_page_size < 1:
            raise ConfigError("pull_page_size must be a whole number >= 1")
        if self.seed is not None and not isinstance(self.seed, int):
            raise ConfigError("seed must be a whole number")
        if self.key_dir is not None and (not isinstance(self.key_dir, str) or not self.key_dir):
            raise ConfigError("key_dir must be a directory path")
