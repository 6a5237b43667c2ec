"""Daraja's strict behaviour, met through the product's own commands: what the operator sees when
Register URL is refused, and the shared OAuth token surviving expiry."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from c2b.models import Payment, Shortcode
from c2b.services.shortcodes import shortcode_save
from daraja.client import get_client
from e2e.conftest import (
    CONSUMER_KEY,
    CONSUMER_SECRET,
    EmulatorClient,
    logs_of,
    start_emulator,
    stop,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PUBLIC_BASE_URL = "https://capture.neno-sacco.example"


def emulator_log_since(stack, offset: int) -> str:
    return stack.emulator.process.log.read_text(errors="replace")[offset:]


def emulator_log_size(stack) -> int:
    return len(stack.emulator.process.log.read_text(errors="replace"))


def test_production_shortcode_registers_once_until_the_org_portal_deletes_the_urls(stack):
    number = "600401"
    stack.emulator.shortcode(number, mode="production")
    shortcode_save(number=number, name="Live paybill", environment="production")

    # Our own check refuses plain http for production before Daraja is called.
    refused = stack.manage("register_urls", "--shortcode", number, check=False)
    assert refused.returncode != 0
    assert "production callback URLs must use https" in refused.stderr, refused.stderr
    assert stack.emulator.get(f"/emulator/shortcodes/{number}")["registration"] is None

    public = {"C2B_CALLBACK_BASE_URL": PUBLIC_BASE_URL}
    first = stack.manage("register_urls", "--shortcode", number, **public)
    assert f"{number}: registered" in first.stdout
    registration = stack.emulator.get(f"/emulator/shortcodes/{number}")["registration"]
    assert registration["confirmation_url"].startswith(PUBLIC_BASE_URL + "/api/v1/c2b/")

    again = stack.manage("register_urls", "--shortcode", number, check=False, **public)
    assert again.returncode != 0, again.stdout
    assert "already registered" in again.stderr, again.stderr
    assert "Org portal" in again.stderr, again.stderr
    assert "500.003.1001" in again.stderr, again.stderr
    shortcode = Shortcode.objects.get(number=number)
    assert shortcode.registration_result.startswith("Failed:"), shortcode.registration_result

    # Deleted in the Org portal (or by Safaricom support): registering works again.
    assert stack.emulator.http.delete(f"/emulator/shortcodes/{number}/urls").json()["deleted"]
    stack.manage("register_urls", "--shortcode", number, **public)
    shortcode.refresh_from_db()
    assert shortcode.registration_result.startswith("Registered"), shortcode.registration_result


def test_wrong_api_version_tells_the_operator_to_switch_it(stack):
    number = "600411"
    stack.emulator.shortcode(number, api_version="v1")  # the SACCO's Daraja app has v1 only
    shortcode_save(number=number, name="v1 paybill", api_version="v2")

    wrong = stack.manage("register_urls", "--shortcode", number, check=False)
    assert wrong.returncode != 0, wrong.stdout
    assert "Switch the shortcode's API version" in wrong.stderr, wrong.stderr
    assert "401.003.01" in wrong.stderr, wrong.stderr
    assert stack.emulator.get(f"/emulator/shortcodes/{number}")["registration"] is None

    # The operator follows the advice.
    stack.manage("shortcode", "add", number, "--api-version", "v1")
    fixed = stack.manage("register_urls", "--shortcode", number)
    assert f"{number}: registered (v1" in fixed.stdout
    assert stack.emulator.get(f"/emulator/shortcodes/{number}")["registration"]["api_version"] == (
        "v1"
    )


def test_token_expired_at_daraja_is_refreshed_once_and_the_call_succeeds(stack):
    """The cached token is still within its lifetime for us, but Daraja says it expired."""
    number = "600421"
    shortcode_save(number=number, name="Token paybill")
    stack.manage("register_urls", "--shortcode", number)  # a token is cached now

    stack.emulator.post("/emulator/clock", {"advance_seconds": 3700})
    start = emulator_log_size(stack)
    stack.manage("register_urls", "--shortcode", number)
    log = emulator_log_since(stack, start)
    assert "registerurl 404 404.001.03" in log, log  # the stale token was refused...
    assert "GET /oauth/v1/generate 200" in log, log  # ...a new one fetched...
    assert "registerurl 200" in log, log  # ...and the call retried once, successfully

    # Every process uses the refreshed token: the next command needs no new one.
    start = emulator_log_size(stack)
    stack.manage(
        "simulate_c2b", "--shortcode", number, "--amount", "75", "--msisdn", "254708374149"
    )
    log = emulator_log_since(stack, start)
    assert "/oauth/" not in log and " 404 " not in log, log
    stack.wait_for(lambda: Payment.objects.filter(amount=75).exists(), "the simulated payment")


@pytest.fixture
def short_token_emulator(e2e_logs) -> Iterator[EmulatorClient]:
    process, url = start_emulator(
        "emulator-short-tokens", e2e_logs / "short.log", "--token-lifetime", "2"
    )
    client = EmulatorClient(url, process)
    yield client
    client.http.close()
    stop(process)


def test_short_lived_tokens_are_renewed_before_use(stack, short_token_emulator):
    number = "600431"
    shortcode_save(number=number, name="Short tokens")
    daraja = {"DARAJA_BASE_URL": short_token_emulator.url}
    log = short_token_emulator.process.log

    client = get_client(
        base_url=short_token_emulator.url,
        consumer_key=CONSUMER_KEY,
        consumer_secret=CONSUMER_SECRET,
    )
    cached = client._token_key  # where every process of the app keeps this Daraja's token
    client.close()
    for attempt in range(2):
        if attempt:  # until the app's cached token has expired: a second after it was fetched
            stack.wait_for(lambda: cache.get(cached) is None, "the cached token to expire")
        result = stack.manage("register_urls", "--shortcode", number, check=False, **daraja)
        assert result.returncode == 0, (
            f"{result.stdout}{result.stderr}\n{logs_of(short_token_emulator.process)}"
        )
    text = log.read_text()
    assert text.count("GET /oauth/v1/generate 200") == 2, text
    assert " 404 " not in text, text  # renewed before it expired, never refused
