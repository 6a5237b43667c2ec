"""How hard the capture worker works: a young backlog waits while a burst is answered, an old one
is caught up at once, in bigger batches. Arithmetic on what each batch reports; no clock."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from c2b.models import CallbackReceipt, Payment
from capture.pacing import Pacing
from capture.services import capture_pending
from core.workers import Progress

PACING = Pacing(busy_share=0.25, relaxed_seconds=2, catch_up_seconds=5, batch=50, max_batch=500)


def test_while_the_backlog_is_young_the_worker_rests_three_times_as_long_as_it_worked():
    assert PACING.rest(busy_seconds=0.1, waited=0.0) == pytest.approx(0.3)
    assert PACING.rest(busy_seconds=0.1, waited=2.0) == pytest.approx(0.3)


def test_once_payments_have_waited_the_catch_up_time_the_worker_never_rests():
    assert PACING.rest(busy_seconds=0.1, waited=5.0) == 0
    assert PACING.rest(busy_seconds=0.1, waited=600.0) == 0


def test_in_between_the_longer_payments_waited_the_less_the_worker_rests():
    rests = [PACING.rest(busy_seconds=0.1, waited=w) for w in (2.0, 2.5, 3.5, 4.5, 5.0)]
    assert rests == sorted(rests, reverse=True)
    assert rests[0] > rests[1] > rests[-2] > rests[-1] == 0
    assert PACING.share(3.5) == pytest.approx(0.625)  # half way: half way to never resting


def test_batches_stay_small_while_the_backlog_is_young_even_when_they_come_back_full():
    assert PACING.next_batch(50, full=True, waited=1.0) == 50


def test_batches_double_while_behind_up_to_the_largest():
    sizes = [50]
    for _ in range(6):
        sizes.append(PACING.next_batch(sizes[-1], full=True, waited=3.0))
    assert sizes == [50, 100, 200, 400, 500, 500, 500]


def test_a_batch_that_did_not_fill_up_brings_the_size_back_down():
    assert PACING.next_batch(400, full=False, waited=30.0) == 50


@pytest.mark.parametrize(
    "fields",
    [
        {"busy_share": 0.0},
        {"busy_share": 1.5},
        {"relaxed_seconds": 6},
        {"batch": 0},
        {"batch": 600},
    ],
)
def test_pacing_that_makes_no_sense_is_refused(fields):
    values = {
        "busy_share": 0.25,
        "relaxed_seconds": 2,
        "catch_up_seconds": 5,
        "batch": 50,
        "max_batch": 500,
    } | fields
    with pytest.raises(ValueError):
        Pacing(**values)


# --- what the worker goes by, and how it uses it ---------------------------------------------


@pytest.mark.django_db
def test_a_batch_reports_how_long_its_oldest_confirmation_waited(mpesa, paybill, payload):
    mpesa.post("confirmation", payload("confirmation_v2_masked", TransID="TKR0000001"))
    mpesa.post("confirmation", payload("confirmation_v2_masked", TransID="TKR0000002"))
    CallbackReceipt.objects.filter(trans_id="TKR0000001").update(
        received_at=timezone.now() - timedelta(seconds=42)
    )

    report = capture_pending(limit=10)

    assert report.processed == 2
    assert 42 <= report.waited < 60


@pytest.mark.django_db
def test_an_empty_batch_reports_no_wait(db):
    assert capture_pending(limit=10).waited == 0


def _worker_steps(monkeypatch, steps: int) -> list[tuple[int, float]]:
    """Run the capture_worker command's own step and pace ``steps`` times, each step said to
    have taken 0.1 s; returns (receipts captured, rest asked) per step."""
    seen: list[tuple[int, float]] = []

    def fake_run_worker(step, *, stop, poll_seconds, once, pace):
        for _ in range(steps):
            progress: Progress = step()
            seen.append((progress.done, pace(progress, 0.1)))

    monkeypatch.setattr("capture.management.commands.capture_worker.run_worker", fake_run_worker)
    call_command("capture_worker", stderr=StringIO())
    return seen


def _arrive(mpesa, payload, count: int, *, waited: timedelta) -> None:
    for i in range(count):
        mpesa.post("confirmation", payload("confirmation_v2_masked", TransID=f"TKR{i:07d}"))
    CallbackReceipt.objects.update(received_at=timezone.now() - waited)


@pytest.mark.django_db
def test_the_worker_rests_after_a_young_batch_in_small_batches(
    mpesa, paybill, payload, monkeypatch, settings
):
    settings.C2B_CAPTURE_BATCH_SIZE, settings.C2B_CAPTURE_MAX_BATCH_SIZE = 2, 8
    _arrive(mpesa, payload, 5, waited=timedelta(0))

    assert _worker_steps(monkeypatch, 3) == [
        (2, pytest.approx(0.3)),
        (2, pytest.approx(0.3)),
        (1, pytest.approx(0.3)),
    ]


@pytest.mark.django_db
def test_the_worker_catches_up_an_old_backlog_without_rest_in_growing_batches(
    mpesa, paybill, payload, monkeypatch, settings
):
    settings.C2B_CAPTURE_BATCH_SIZE, settings.C2B_CAPTURE_MAX_BATCH_SIZE = 2, 8
    _arrive(mpesa, payload, 20, waited=timedelta(seconds=30))

    assert _worker_steps(monkeypatch, 4) == [(2, 0), (4, 0), (8, 0), (6, 0)]
    assert Payment.objects.count() == 20
