"""System checks: receipts that would not reach members, or would not fit one SMS."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from sms.gsm7 import SINGLE_SMS_SEPTETS, gsm7_length


@register()
def check_sms_template(app_configs, **kwargs):
    from sms.text import TEMPLATE, TYPICAL, render_raw

    try:
        text = render_raw(TYPICAL, TYPICAL.name)
    except Exception as exc:
        return [Error(f"The SMS template {TEMPLATE} does not render: {exc}", id="sms.E002")]
    length = gsm7_length(text)
    if length is None or length > SINGLE_SMS_SEPTETS:
        size = "uses characters outside GSM-7" if length is None else f"is {length} characters"
        return [
            Warning(
                f"The SMS receipt for typical values {size}: it will not fit one 160-character "
                "SMS.",
                hint=f"Shorten {TEMPLATE} (or your override in templates/). Rendered: {text!r}",
                id="sms.W002",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_sms_backend(app_configs, **kwargs):
    if settings.SMS_BACKEND == "africastalking" and not (
        settings.AFRICASTALKING_USERNAME and settings.AFRICASTALKING_API_KEY
    ):
        return [
            Error(
                "SMS_BACKEND is africastalking but AFRICASTALKING_USERNAME or "
                "AFRICASTALKING_API_KEY is not set.",
                id="sms.E001",
            )
        ]
    if settings.SMS_BACKEND in ("console", "memory") and not settings.DEBUG:
        return [
            Warning(
                f"SMS_BACKEND is {settings.SMS_BACKEND!r} while DEBUG is off: members get no SMS.",
                hint="Set AFRICASTALKING_USERNAME and AFRICASTALKING_API_KEY.",
                id="sms.W001",
            )
        ]
    return []
