"""Prints each message with its recipient on the worker's standard output: the demo's phone."""

from __future__ import annotations

import itertools
import sys
import threading

from sms.backends.base import SendResult, SmsBackend

_ids = itertools.count(1)
_lock = threading.Lock()


class ConsoleBackend(SmsBackend):
    name = "console"

    def send(self, *, to: str, text: str) -> SendResult:
        stream = self.stdout or sys.stdout
        with _lock:
            message_id = f"console-{next(_ids)}"
            stream.write(f"--- SMS to +{to} ({len(text)} chars) ---\n{text}\n")
            stream.flush()
        return SendResult(provider_message_id=message_id, provider_status="Printed")
