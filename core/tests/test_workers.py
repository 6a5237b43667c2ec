"""The loop every worker runs, driven by a scripted step, a recording stop event, a fake clock."""

from collections.abc import Iterator
from unittest import mock

import pytest
from django.db import OperationalError, connection

from core.workers import MAX_OUTAGE_WAIT, Progress, run_worker


class Stop:
    """A stop event that records every wait and is set after ``after`` waits."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.waits: list[float] = []

    def is_set(self) -> bool:
        return len(self.waits) >= self.after

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        return self.is_set()


def scripted(*outcomes: Progress | Exception):
    """A step that returns (or raises) each outcome in turn, then reports nothing to do."""
    queue: Iterator[Progress | Exception] = iter(outcomes)
    calls: list[int] = []

    def step() -> Progress:
        calls.append(1)
        outcome = next(queue, Progress(done=0))
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    step.calls = calls  # type: ignore[attr-defined]
    return step


def test_a_step_that_found_more_is_followed_at_once_otherwise_the_worker_polls():
    stop = Stop(after=1)
    step = scripted(Progress(done=50, more=True), Progress(done=50, more=True), Progress(done=3))
    run_worker(step, stop=stop, poll_seconds=0.5)
    assert len(step.calls) == 3
    assert stop.waits == [0.5]


def test_the_worker_rests_as_long_as_pace_asks_after_a_step_that_did_work():
    stop = Stop(after=3)
    clock = iter([100.0, 100.3, 200.0, 200.0])  # the first step took 0.3 s, the second none
    paced: list[tuple[Progress, float]] = []

    def pace(progress: Progress, busy: float) -> float:
        paced.append((progress, busy))
        return busy * 3

    run_worker(
        scripted(Progress(done=2, more=True), Progress(done=0)),
        stop=stop,
        poll_seconds=0.5,
        pace=pace,
        clock=lambda: next(clock),
    )
    assert paced == [(Progress(done=2, more=True), pytest.approx(0.3))]
    assert stop.waits[:2] == [pytest.approx(0.9), 0.5]  # rest, then nothing more: poll


def test_a_database_outage_is_waited_out_longer_each_time_then_work_resumes():
    stop = Stop(after=3)
    step = scripted(OperationalError("refused"), OperationalError("still down"), Progress(1))
    with mock.patch.object(connection, "close") as close:
        run_worker(step, stop=stop, poll_seconds=0.5)
    assert stop.waits == [1.0, 2.0, 0.5]  # backoff, backoff, then the poll after the work
    assert close.call_count == 2  # a fresh connection is opened for the next try


def test_outage_waits_are_capped():
    stop = Stop(after=8)
    with mock.patch.object(connection, "close"):
        run_worker(scripted(*[OperationalError("down")] * 8), stop=stop, poll_seconds=2)
    assert max(stop.waits) == MAX_OUTAGE_WAIT


def test_once_runs_until_nothing_more_waits_and_never_rests_or_polls():
    stop = Stop(after=99)
    step = scripted(Progress(done=5, more=True), Progress(done=1))
    run_worker(step, stop=stop, poll_seconds=0.5, once=True, pace=lambda p, busy: 10.0)
    assert len(step.calls) == 2
    assert stop.waits == []


def test_once_raises_a_database_outage_instead_of_waiting():
    with pytest.raises(OperationalError):
        run_worker(
            scripted(OperationalError("down")), stop=Stop(after=99), poll_seconds=0.5, once=True
        )


def test_a_stopped_worker_takes_no_step():
    step = scripted(Progress(done=1))
    run_worker(step, stop=Stop(after=0), poll_seconds=0.5)
    assert step.calls == []
