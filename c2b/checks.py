"""System checks (``manage.py check --deploy`` and every start) for mistakes that lose payments."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Tags, Warning, register

from core.redaction import configured_secrets, redact
from daraja.errors import CallbackURLRejected
from daraja.urlrules import check_callback_url

SAFARICOM_HOSTS = {"api.safaricom.co.ke", "sandbox.safaricom.co.ke"}


@register(Tags.security, deploy=True)
def check_daraja_host(app_configs, **kwargs):
    host = urlsplit(settings.DARAJA_BASE_URL).hostname or ""
    if not settings.DEBUG and host not in SAFARICOM_HOSTS:
        return [
            Warning(
                f"DARAJA_BASE_URL points at {host!r}, not Safaricom, while DEBUG is off.",
                hint="Production must use https://api.safaricom.co.ke; the emulator is for demos "
                "and tests.",
                id="c2b.W001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_callback_urls(app_configs, **kwargs):
    if not settings.C2B_CALLBACK_TOKENS:
        return []
    base = settings.C2B_CALLBACK_BASE_URL.rstrip("/")
    url = f"{base}/api/v1/c2b/{settings.C2B_CALLBACK_TOKENS[0]}/confirmation"
    try:
        check_callback_url(url, production=not settings.DEBUG)
    except CallbackURLRejected as exc:
        shown = redact(str(exc), secrets=configured_secrets())
        return [
            Warning(
                f"Safaricom would refuse the callback URLs: {shown}",
                hint="Set C2B_CALLBACK_BASE_URL to the public https address and choose a "
                "C2B_CALLBACK_TOKEN without the forbidden words.",
                id="c2b.W002",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_ip_allowlist(app_configs, **kwargs):
    if not settings.DEBUG and "*" in settings.C2B_ALLOWED_IPS:
        return [
            Warning(
                "C2B_ALLOWED_IPS is '*': callbacks are accepted from any address.",
                hint="Leave C2B_ALLOWED_IPS unset to allow only Safaricom's published addresses.",
                id="c2b.W003",
            )
        ]
    return []
