"""Choosing the backend from settings (``SMS_BACKEND``)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from sms.backends.base import SendResult, SmsBackend, SmsSendError

BACKENDS = {
    "console": "sms.backends.console.ConsoleBackend",
    "memory": "sms.backends.memory.MemoryBackend",
    "africastalking": "sms.backends.africastalking.AfricasTalkingBackend",
}

__all__ = ["BACKENDS", "SendResult", "SmsBackend", "SmsSendError", "get_backend"]


def get_backend() -> SmsBackend:
    name = settings.SMS_BACKEND
    path = BACKENDS.get(name, name)
    try:
        backend_class = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(
            f"SMS_BACKEND {name!r} cannot be loaded ({exc}); use one of {', '.join(BACKENDS)}."
        ) from None
    return backend_class()
