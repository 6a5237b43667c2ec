"""A small named world for the staff pages: two people, a paybill, and payments made to order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from itertools import count
from typing import Any

import pytest
from django.core.cache import cache

from c2b.models import Payment, Shortcode
from c2b.payloads import EAT

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Totals and sign-in counters live in the cache; each test starts without them.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def cashier(django_user_model):
    return django_user_model.objects.create_user("wanjiku", password=PASSWORD, is_staff=True)


@pytest.fixture
def member_user(django_user_model):
    return django_user_model.objects.create_user("otieno", password=PASSWORD)


@pytest.fixture
def staff_client(client, cashier):
    client.force_login(cashier)
    return client


@pytest.fixture
def main_paybill(db) -> Shortcode:
    return Shortcode.objects.create(number="600984", name="Main paybill")


@pytest.fixture
def till(db) -> Shortcode:
    return Shortcode.objects.create(number="600638", name="Shop till", kind="till")


_receipts = count(1)


@pytest.fixture
def make_payment(main_paybill) -> Callable[..., Payment]:
    """``make_payment(at="2026-11-27 14:30", amount="1500.00", **fields)``: times are EAT."""

    def make(
        at: str = "2026-11-27 14:30:15",
        amount: str = "1500.00",
        shortcode: Shortcode | None = None,
        **fields: Any,
    ) -> Payment:
        code = shortcode or main_paybill
        moment = datetime.fromisoformat(at).replace(tzinfo=EAT)
        defaults = {
            "trans_id": f"TKR{next(_receipts):07d}",
            "transaction_type": "Pay Bill",
            "bill_ref_number": "NS 00123",
            "msisdn": "2547 ***** 126",
            "first_name": "JOHN",
            "org_account_balance": Decimal("49197.00"),
        }
        defaults.update(fields)
        return Payment.objects.create(
            trans_time=moment,
            amount=Decimal(amount),
            shortcode=code,
            business_short_code=code.number,
            **defaults,
        )

    return make
