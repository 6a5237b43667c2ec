"""Managing shortcodes and their registration with Daraja."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from c2b.models import Shortcode
from core.redaction import configured_secrets, redact
from daraja.client import DarajaClient, DarajaReply, get_client
from daraja.errors import CallbackURLRejected, DarajaError
from daraja.urlrules import check_callback_url

logger = logging.getLogger(__name__)


def shortcode_ensure_default() -> Shortcode | None:
    """Create the shortcode named by ``C2B_DEFAULT_SHORTCODE`` if it does not exist yet.

    An existing row is left alone: after the first start the admin is where it is managed.
    """
    number = settings.C2B_DEFAULT_SHORTCODE
    if not number:
        return None
    shortcode, created = Shortcode.objects.get_or_create(
        number=number,
        defaults={
            "name": "Default (from environment)",
            "kind": settings.C2B_DEFAULT_SHORTCODE_KIND,
            "environment": settings.C2B_DEFAULT_ENVIRONMENT,
            "api_version": settings.C2B_DEFAULT_API_VERSION,
            "response_type": settings.C2B_DEFAULT_RESPONSE_TYPE,
            "min_amount": settings.C2B_DEFAULT_MIN_AMOUNT,
            "max_amount": settings.C2B_DEFAULT_MAX_AMOUNT,
            "account_pattern": settings.C2B_DEFAULT_ACCOUNT_PATTERN,
        },
    )
    if created:
        shortcode.full_clean()
        logger.info("Created default shortcode %s from the environment", number)
    return shortcode


def shortcode_save(*, number: str, **fields: Any) -> tuple[Shortcode, bool]:
    """Create or update a shortcode; only the given fields change. Validates before saving."""
    with transaction.atomic():
        shortcode = Shortcode.objects.select_for_update().filter(number=number).first()
        created = shortcode is None
        if created:
            shortcode = Shortcode(number=number)
        for name, value in fields.items():
            setattr(shortcode, name, value)
        shortcode.full_clean()
        shortcode.save()
    return shortcode, created


def shortcode_set_enabled(*, number: str, enabled: bool) -> Shortcode:
    shortcode = Shortcode.objects.get(number=number)
    shortcode.enabled = enabled
    shortcode.save(update_fields=["enabled", "updated_at"])
    return shortcode


@dataclass(frozen=True)
class CallbackURLs:
    confirmation: str
    validation: str


def callback_urls() -> CallbackURLs:
    """The URLs M-Pesa should call, built from ``C2B_CALLBACK_BASE_URL`` and the first token."""
    base = settings.C2B_CALLBACK_BASE_URL.rstrip("/")
    token = settings.C2B_CALLBACK_TOKENS[0] if settings.C2B_CALLBACK_TOKENS else ""
    if not token:
        raise CallbackURLRejected("Set C2B_CALLBACK_TOKEN before registering URLs.")

    def url(kind: str) -> str:
        return base + reverse("c2b:callback", kwargs={"token": token, "kind": kind})

    return CallbackURLs(confirmation=url("confirmation"), validation=url("validation"))


def callback_urls_check(*, shortcode: Shortcode) -> CallbackURLs:
    """The URLs, checked against Safaricom's rules; ``CallbackURLRejected`` names the rule with
    the token shown as ``<token>``."""
    urls = callback_urls()
    production = shortcode.environment == Shortcode.Environment.PRODUCTION
    for url in (urls.confirmation, urls.validation):
        try:
            check_callback_url(
                url, production=production, allow_local=settings.DARAJA_ALLOW_LOCAL_CALLBACKS
            )
        except CallbackURLRejected as exc:
            raise CallbackURLRejected(_shown(exc)) from None
    return urls


def _shown(exc: Exception) -> str:
    """An error's message as people and logs may see it: callback tokens blanked (Daraja's
    own error text may echo the URL it refused)."""
    return redact(str(exc), secrets=configured_secrets())


def shortcode_register_urls(
    *, shortcode: Shortcode, client: DarajaClient | None = None
) -> DarajaReply:
    """Register our callback URLs for ``shortcode``; the outcome is recorded on the shortcode.

    Raises ``CallbackURLRejected`` (a rule broken, Daraja not called) or ``DarajaError``.
    """
    urls = callback_urls_check(shortcode=shortcode)
    own_client = client is None
    client = client or get_client()
    try:
        result = client.register_urls(
            shortcode=shortcode.number,
            confirmation_url=urls.confirmation,
            validation_url=urls.validation,
            response_type=shortcode.response_type,
            api_version=shortcode.api_version,
        )
    except DarajaError as exc:
        exc.args = (_shown(exc),)
        shortcode.registration_result = f"Failed: {exc}"
        shortcode.save(update_fields=["registration_result", "updated_at"])
        raise
    finally:
        if own_client:
            client.close()
    shortcode.registered_at = timezone.now()
    shortcode.registration_result = f"Registered ({_shown(result.description or 'success')})"
    shortcode.save(update_fields=["registered_at", "registration_result", "updated_at"])
    return result


def shortcode_simulate(
    *,
    shortcode: Shortcode,
    amount: Decimal,
    msisdn: str,
    account: str = "",
    client: DarajaClient | None = None,
) -> DarajaReply:
    """Ask the sandbox (or emulator) to make a test payment; it arrives on the callbacks."""
    if shortcode.environment != Shortcode.Environment.SANDBOX:
        raise DarajaError(
            f"Shortcode {shortcode.number} is a production shortcode: simulate is sandbox only."
        )
    own_client = client is None
    client = client or get_client()
    try:
        return client.simulate(
            shortcode=shortcode.number,
            command_id=shortcode.command_id,
            amount=f"{amount:f}",
            msisdn=msisdn,
            bill_ref_number=account,
            api_version=shortcode.api_version,
        )
    finally:
        if own_client:
            client.close()
