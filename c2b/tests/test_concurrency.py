"""Exactly-once under concurrent redelivery, proven with real threads on PostgreSQL."""

import json
import threading

import pytest
from django.db import connection, connections
from django.test import Client

from c2b.models import CallbackReceipt, Payment
from conftest import load_payload

THREADS = 12

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrency is proven on PostgreSQL"
)


@pytest.mark.django_db(transaction=True)
def test_same_confirmation_from_many_threads_at_once_is_stored_once(make_shortcode):
    make_shortcode("600984")
    body = json.dumps(load_payload("confirmation_v2_masked"))
    barrier = threading.Barrier(THREADS)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            barrier.wait(timeout=10)
            response = Client().post(
                "/api/v1/c2b/test-callback-token/confirmation",
                data=body,
                content_type="application/json",
            )
            statuses.append(response.status_code)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert not errors
    assert statuses == [200] * THREADS
    assert Payment.objects.count() == 1
    receipts = CallbackReceipt.objects.values_list("status", flat=True)
    assert sorted(receipts) == ["duplicate"] * (THREADS - 1) + ["processed"]
