"""Fixtures shared by every room's tests: a small named world of shortcodes and payloads."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

PAYLOADS = Path(__file__).parent / "c2b" / "tests" / "payloads"
TOKEN = "test-callback-token"


def load_payload(name: str, **changes: Any) -> dict[str, Any]:
    """A real-shaped callback body from c2b/tests/payloads, with keys changed or (None) removed."""
    data = json.loads((PAYLOADS / f"{name}.json").read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def daraja_error(status: int, code: str, message: str) -> Any:
    """A reply in Daraja's error envelope, as its gateway sends every error."""
    import httpx

    return httpx.Response(
        status, json={"requestId": "16813-1590513-1", "errorCode": code, "errorMessage": message}
    )


@pytest.fixture
def payload() -> Callable[..., dict[str, Any]]:
    return load_payload


@pytest.fixture
def make_shortcode(db) -> Callable[..., Any]:
    from c2b.models import Shortcode

    def make(number: str = "600984", **fields: Any) -> Shortcode:
        return Shortcode.objects.create(number=number, **fields)

    return make


@pytest.fixture
def make_member(db) -> Callable[..., Any]:
    """``make_member(number="NS00123", phones=("254712345126",), status="active")``."""
    from members.models import Member, MemberPhone

    def make(
        number: str = "NS00123",
        name: str = "John Otieno",
        phones: tuple[str, ...] = ("254712345126",),
        status: str = Member.Status.ACTIVE,
    ) -> Member:
        member = Member.objects.create(number=number, name=name, status=status)
        for position, phone in enumerate(phones):
            MemberPhone.objects.create(member=member, number=phone, position=position)
        return member

    return make


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
        from c2b.services.capture import capture_pending

        response = self.post("confirmation", body, **extra)
        capture_pending(limit=100)
        return response

    def validate(self, body, **extra: Any):
        return self.post("validation", body, **extra)


@pytest.fixture
def mpesa(client: Client) -> CallbackClient:
    return CallbackClient(client)
