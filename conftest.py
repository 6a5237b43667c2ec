"""Fixtures shared by every room's tests: a small named world of shortcodes and payloads.

The builders themselves are in ``factories.py``; these fixtures only give them the database.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx
from django.core.cache import cache
from django.test import Client

import factories
from factories import TOKEN, load_payload


@pytest.fixture
def payload() -> Callable[..., dict[str, Any]]:
    return load_payload


@pytest.fixture
def make_shortcode(db) -> Callable[..., Any]:
    return factories.make_shortcode


@pytest.fixture
def make_member(db) -> Callable[..., Any]:
    return factories.make_member


@pytest.fixture
def make_payment(db) -> Callable[..., Any]:
    return factories.make_payment


@pytest.fixture
def paybill(make_shortcode):
    """The SACCO's paybill, as the payload fixtures address it."""
    make_shortcode("600638", kind="till")
    make_shortcode("6009841", name="Seven-digit paybill")
    return make_shortcode("600984", name="Main paybill")


@pytest.fixture(autouse=True)
def _forget_known_shortcodes():
    """Each test's shortcodes are its own: no answer remembered from an earlier test."""
    from c2b.selectors import known_shortcodes_forget

    known_shortcodes_forget()
    yield
    known_shortcodes_forget()


class CallbackClient:
    """Posts to the callback URLs the way M-Pesa does."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def url(self, kind: str, token: str = TOKEN, slash: bool = False) -> str:
        return f"/api/v1/c2b/{token}/{kind}" + ("/" if slash else "")

    def post(self, kind: str, body: dict | bytes | str, *, token: str = TOKEN, **extra: Any):
        if isinstance(body, dict):
            body = json.dumps(body)
        return self.client.post(
            self.url(kind, token), data=body, content_type="application/json", **extra
        )

    def confirm(self, body, **extra: Any):
        """M-Pesa confirms, then a capture worker takes one pass, as it would within a moment.

        ``post("confirmation", ...)`` is the request alone, for what happens before capture."""
        from capture.services import capture_pending

        response = self.post("confirmation", body, **extra)
        capture_pending(limit=100)
        return response

    def validate(self, body, **extra: Any):
        return self.post("validation", body, **extra)


@pytest.fixture
def mpesa(client: Client) -> CallbackClient:
    return CallbackClient(client)


@pytest.fixture
def daraja():
    """Daraja at the tests' base URL, already handing out an OAuth token; add routes per test."""
    cache.clear()
    with respx.mock(base_url="https://daraja.test", assert_all_called=False) as mock:
        mock.get("/oauth/v1/generate").mock(
            return_value=httpx.Response(200, json={"access_token": "tok", "expires_in": "3599"})
        )
        yield mock
    cache.clear()
