"""The one small interface every SMS provider sits behind (the shape of django-anymail's).

A backend sends one message to one number and either returns a ``SendResult`` (the provider took
it) or raises ``SmsSendError`` saying whether trying again later can help (``permanent``) and
whether the provider may have sent it anyway (``ambiguous``: never retried automatically, so a
member never gets the same receipt twice).

What a provider later reports about a message reaches the rest of the app as a
``DeliveryEvent``: each provider's module turns its own vocabulary into one of three
``DeliveryState`` values, so nothing outside that module knows a provider's words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TextIO


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


class DeliveryState(Enum):
    DELIVERED = "delivered"  # on the phone
    UNDELIVERED = "undelivered"  # the network gave up
    PENDING = "pending"  # an interim report (buffered, sent to the network...)


@dataclass(frozen=True)
class DeliveryEvent:
    """A provider's report about one message, normalised."""

    provider_message_id: str
    state: DeliveryState
    provider_status: str = ""  # the provider's own word, for staff
    reason: str = ""  # why it was not delivered, in the provider's words
    network_code: str = ""
    phone: str = ""  # as the provider reported it: mask before storing or logging
    raw: dict[str, str] = field(default_factory=dict)


class SmsBackend:
    """``stdout`` is where a backend that prints (the console one) writes: the worker passes
    its own output, every other backend ignores it."""

    name = "base"

    def __init__(self, *, stdout: TextIO | None = None) -> None:
        self.stdout = stdout

    def send(self, *, to: str, text: str) -> SendResult:
        """Send ``text`` to ``to`` (``2547XXXXXXXX``). Raises ``SmsSendError``."""
        raise NotImplementedError
