"""Keep the secret in our callback paths out of logs.

The callback token is part of the URL path (C2B callbacks and SMS delivery reports), and Django
logs the path of every 4xx/5xx response ("Bad Request: /api/v1/c2b/<token>/confirmation"). This
filter, on every handler, replaces the secret path segment before the line is written.
"""

from __future__ import annotations

import logging
import re

_SECRET_SEGMENT = re.compile(r"(/api/v1/(?:c2b|sms)/)[^/\s?\"']+")


def redact(text: str) -> str:
    return _SECRET_SEGMENT.sub(r"\1<token>", text)


class RedactCallbackTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
