"""The emulator's shared, lock-protected state and its background workers."""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from daraja_emulator import errors
from daraja_emulator.auth import TokenStore
from daraja_emulator.clock import Clock
from daraja_emulator.ledger import Delivery, Ledger
from daraja_emulator.payers import PayerDirectory
from daraja_emulator.settings import Settings, ShortcodeSettings


@dataclass(frozen=True)
class Registration:
    confirmation_url: str
    validation_url: str
    response_type: str
    api_version: str
    registered_at: datetime


@dataclass(frozen=True)
class PullRegistration:
    nominated_number: str
    callback_url: str
    registered_at: datetime


@dataclass
class Shortcode:
    settings: ShortcodeSettings
    registration: Registration | None = None
    pull: PullRegistration | None = None
    auto_created: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = self.settings.to_dict()
        data["auto_created"] = self.auto_created
        data["registration"] = (
            {
                "confirmation_url": self.registration.confirmation_url,
                "validation_url": self.registration.validation_url,
                "response_type": self.registration.response_type,
                "api_version": self.registration.api_version,
            }
            if self.registration
            else None
        )
        data["pull"] = (
            {"nominated_number": self.pull.nominated_number, "callback_url": self.pull.callback_url}
            if self.pull
            else None
        )
        return data


class Workers:
    """Background threads (callback deliveries, scenarios) that stop promptly on shutdown."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()
        self.stopping = threading.Event()

    def spawn(self, target: Callable[..., None], *args: Any, name: str) -> threading.Thread:
        def run() -> None:
            try:
                target(*args)
            finally:
                with self._lock:
                    self._threads.discard(thread)

        thread = threading.Thread(target=run, name=name, daemon=True)
        with self._lock:
            self._threads.add(thread)
        thread.start()
        return thread

    def sleep(self, seconds: float) -> bool:
        """Sleep unless the emulator stops first; False means "stop now"."""
        return not self.stopping.wait(seconds) if seconds > 0 else not self.stopping.is_set()

    def busy(self) -> int:
        with self._lock:
            return len(self._threads)

    def join(self, timeout: float) -> bool:
        """Wait for the background threads (other than the caller) to finish."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                pending = [t for t in self._threads if t is not threading.current_thread()]
            if not pending:
                return True
            pending[0].join(0.05)
        return False

    def stop(self, timeout: float = 2.0) -> None:
        self.stopping.set()
        self.join(timeout)


class EmulatorState:
    """Everything the request handlers share. ``lock`` guards shortcodes and registrations;
    the ledger, token store and payer directory carry their own locks."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        settings.validate()
        self.settings = settings
        self.clock = clock or Clock()
        self.lock = threading.RLock()
        self.workers = Workers()
        self.tokens = TokenStore(
            self.clock,
            key=settings.consumer_key,
            secret=settings.consumer_secret,
            lifetime=settings.token_lifetime,
            single_active=settings.single_active_token,
        )
        self.ledger = Ledger()
        self.payers = PayerDirectory()
        self.rng = random.Random(settings.seed)
        self.shortcodes: dict[str, Shortcode] = {}
        self.scenarios: dict[str, Any] = {}
        # Transaction Status results are not tied to one payment's record; keep the recent ones.
        self.result_deliveries: deque[Delivery] = deque(maxlen=500)
        self.reset()

    def reset(self) -> None:
        """Back to the startup configuration. Tokens survive: they belong to the client app,
        not to the test data, and a reset must not look like a gateway outage."""
        with self.lock:
            self.shortcodes = {s.shortcode: Shortcode(s) for s in self.settings.shortcodes}
            self.scenarios = {}
            self.result_deliveries.clear()
            self.rng = random.Random(self.settings.seed)
            self._result_seeds = random.Random(self.settings.seed)
        self.ledger.clear()
        self.payers.clear()

    def shortcode(self, number: str, *, field_name: str = "ShortCode") -> Shortcode:
        """The shortcode, auto-created in sandbox mode with the defaults when allowed."""
        with self.lock:
            existing = self.shortcodes.get(number)
            if existing:
                return existing
            if not self.settings.auto_create_shortcodes:
                raise errors.invalid_field(field_name, "unknown shortcode")
            created = Shortcode(self.settings.defaults_for(number), auto_created=True)
            self.shortcodes[number] = created
            return created

    def settings_for(self, number: str) -> ShortcodeSettings:
        """Settings of a shortcode, or the defaults, without creating it (read-only paths)."""
        with self.lock:
            existing = self.shortcodes.get(number)
            return existing.settings if existing else self.settings.defaults_for(number)

    def configure_shortcode(self, data: dict[str, Any]) -> tuple[Shortcode, bool]:
        number = str(data.get("shortcode", data.get("number", "")))
        with self.lock:
            existing = self.shortcodes.get(number)
            if existing:
                existing.settings = existing.settings.updated(data)
                existing.auto_created = False
                return existing, False
            created = Shortcode(ShortcodeSettings.from_dict(data, self.settings.shortcode_defaults))
            self.shortcodes[created.settings.shortcode] = created
            return created, True

    def record_result_delivery(self, delivery: Delivery) -> None:
        with self.lock:
            self.result_deliveries.append(delivery)

    def result_rng(self) -> random.Random:
        """A generator of its own for one Transaction Status result (order, value types). A
        separate stream, so status queries never change the seeded payments' name shapes."""
        with self.lock:
            return random.Random(self._result_seeds.getrandbits(64))

    def draw(self, fn: Callable[[random.Random], Any]) -> Any:
        """Use the shared seeded RNG under the lock, so seeded runs stay reproducible."""
        with self.lock:
            return fn(self.rng)
