"""Keeps messages in a list for tests, like Django's locmem e-mail outbox.

``outbox`` collects what was sent; errors appended to ``failures`` are raised, one per send, before
anything is recorded, to play a failing provider.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass

from sms.backends.base import SendResult, SmsBackend, SmsSendError


@dataclass(frozen=True)
class SentMessage:
    to: str
    text: str
    provider_message_id: str


outbox: list[SentMessage] = []
failures: list[SmsSendError] = []
_ids = itertools.count(1)
_lock = threading.Lock()


def reset() -> None:
    with _lock:
        outbox.clear()
        failures.clear()


class MemoryBackend(SmsBackend):
    name = "memory"

    def send(self, *, to: str, text: str) -> SendResult:
        with _lock:
            if failures:
                raise failures.pop(0)
            message = SentMessage(to=to, text=text, provider_message_id=f"mem-{next(_ids)}")
            outbox.append(message)
        return SendResult(provider_message_id=message.provider_message_id, provider_status="Sent")
