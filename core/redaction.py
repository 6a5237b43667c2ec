"""Keep the secret in our callback paths out of logs.

The callback token is part of the URL path (C2B callbacks and SMS delivery reports), and Django
logs the path of every 4xx/5xx response ("Bad Request: /api/v1/c2b/<token>/confirmation"). This
filter, on every handler, replaces the secret path segment before the line is written.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

_SECRET_SEGMENT = re.compile(r"(/api/v1/(?:c2b|sms|daraja)/)[^/\s?\"']+")


def redact(text: str, *, secrets: Iterable[str] = ()) -> str:
    """``text`` with the secret segment of our callback paths replaced by ``<token>``, and each
    of ``secrets`` (the configured tokens) wherever else it appears."""
    text = _SECRET_SEGMENT.sub(r"\1<token>", text)
    for secret in secrets:
        if len(secret) >= 8:  # a debug token like "t" would blank half the line
            text = text.replace(secret, "<token>")
    return text


def configured_secrets() -> list[str]:
    """The secret path tokens in Django's settings (none before settings are configured)."""
    from django.conf import settings

    if not settings.configured:
        return []
    return [
        *getattr(settings, "C2B_CALLBACK_TOKENS", []),
        *getattr(settings, "SMS_DELIVERY_REPORT_TOKENS", []),
    ]


class RedactCallbackTokens(logging.Filter):
    """On every handler: the message, and the traceback of an exception logged with it."""

    def filter(self, record: logging.LogRecord) -> bool:
        secrets = configured_secrets()
        message = record.getMessage()
        redacted = redact(message, secrets=secrets)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(_FORMATTER.formatException(record.exc_info), secrets=secrets)
        return True


_FORMATTER = logging.Formatter()
