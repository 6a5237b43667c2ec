"""A small named world for the staff pages: two people, a paybill and a till (payments come from
``make_payment``)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from c2b.models import Shortcode

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
