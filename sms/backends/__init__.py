"""Choosing the backend from settings (``SMS_BACKEND``)."""

from __future__ import annotations

from typing import TextIO

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from sms.backends.base import (
    DeliveryEvent,
    DeliveryState,
    SendResult,
    SmsBackend,
    SmsSendError,
)

BACKENDS = {
    "console": "sms.backends.console.ConsoleBackend",
    "memory": "sms.backends.memory.MemoryBackend",
    "africastalking": "sms.backends.africastalking.AfricasTalkingBackend",
}

__all__ = [
    "BACKENDS",
    "DeliveryEvent",
    "DeliveryState",
    "SendResult",
    "SmsBackend",
    "SmsSendError",
    "get_backend",
]


def get_backend(*, stdout: TextIO | None = None) -> SmsBackend:
    """The configured backend; ``stdout`` for one that prints (see ``SmsBackend``)."""
    name = settings.SMS_BACKEND
    path = BACKENDS.get(name, name)
    try:
        backend_class = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"SMS_BACKEND {name!r} cannot be loaded ({exc}); use one of {', '.join(BACKENDS)}."
        ) from None
    return backend_class(stdout=stdout)
