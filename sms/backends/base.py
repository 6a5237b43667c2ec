"""The one small interface every SMS provider sits behind.

A backend sends one message to one number and either returns a ``SendResult`` (the provider took
it) or raises ``SmsSendError`` saying whether trying again later can help (``permanent``) and
whether the provider may have sent it anyway (``ambiguous``: never retried automatically, so a
member never gets the same receipt twice).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SendResult:
    provider_message_id: str = ""
    provider_status: str = ""
    cost: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


class SmsSendError(Exception):
    def __init__(self, reason: str, *, permanent: bool, ambiguous: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.ambiguous = ambiguous


class SmsBackend:
    name = "base"

    def send(self, *, to: str, text: str) -> SendResult:
        """Send ``text`` to ``to`` (``2547XXXXXXXX``). Raises ``SmsSendError``."""
        raise NotImplementedError
