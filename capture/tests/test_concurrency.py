"""Exactly-once under concurrent redelivery and concurrent capture workers, with real threads on
PostgreSQL."""

import json
import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections
from django.test import Client

from c2b.models import CallbackReceipt, Payment
from capture.services import capture_pending
from factories import load_payload

THREADS = 12

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrency is proven on PostgreSQL"
)


def all_at_once(work: Callable[[], object], threads: int = THREADS) -> list[object]:
    """Run ``work`` in ``threads`` threads released together; returns what each returned."""
    barrier = threading.Barrier(threads)
    results: list[object] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(work())
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    pool = [threading.Thread(target=run) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=30)
    assert not errors
    return results


def deliver(body: str) -> int:
    response = Client().post(
        "/api/v1/c2b/test-callback-token-0123456789abcdef/confirmation",
        data=body,
        content_type="application/json",
    )
    return response.status_code


@pytest.mark.django_db(transaction=True)
def test_same_confirmation_from_many_threads_and_workers_at_once_is_stored_once(make_shortcode):
    make_shortcode("600984")
    body = json.dumps(load_payload("confirmation_v2_masked"))

    assert all_at_once(lambda: deliver(body)) == [200] * THREADS
    # Each worker claims one receipt, so twelve workers race to insert the same TransID.
    all_at_once(lambda: capture_pending(limit=1))
    capture_pending(limit=100)  # any a busy worker skipped

    assert Payment.objects.count() == 1
    receipts = CallbackReceipt.objects.values_list("status", flat=True)
    assert sorted(receipts) == ["duplicate"] * (THREADS - 1) + ["processed"]


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_never_capture_one_receipt_twice(make_shortcode):
    make_shortcode("600984")
    for i in range(60):
        body = json.dumps(load_payload("confirmation_v2_masked", TransID=f"TKR{i:07d}"))
        assert deliver(body) == 200

    reports = all_at_once(lambda: capture_pending(limit=10), threads=6)
    # A worker whose rows were captured by another between its look and its lock takes fewer
    # than ten (SKIP LOCKED, then the row no longer qualifies): what is left waits for the next.
    reports.append(capture_pending(limit=100))

    assert sum(r.total for r in reports) == 60
    assert sum(r.processed for r in reports) == 60
    assert Payment.objects.count() == 60
    assert set(CallbackReceipt.objects.values_list("attempts", flat=True)) == {1}
