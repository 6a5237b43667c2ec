"""The loop every background worker runs: step, rest, poll, survive outages, stop on a signal.

A worker is a management command that builds one *step* (a plain service function that does a
bounded unit of work and says how much it did) and hands it to ``run_worker``. The step is what
tests call directly; the loop only decides when to call it again:

- a step that found more waiting than it could take is followed by the next one at once (after
  the rest ``pace`` asks for, if any);
- otherwise the worker waits ``poll_seconds`` and looks again;
- while the database is unreachable it waits longer each time (up to ``MAX_OUTAGE_WAIT``) and
  tries again; nothing is lost meanwhile, the work waits in the database;
- SIGTERM or Ctrl-C (``stop_on_signals``) stops it between steps, so a step always finishes.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import InterfaceError, OperationalError, connection

logger = logging.getLogger(__name__)

# The database is unreachable or busy: nothing was written, try again later.
OUTAGE = (OperationalError, InterfaceError)
MAX_OUTAGE_WAIT = 30.0


@dataclass(frozen=True)
class Progress:
    """What one step did: ``done`` units of work, and whether ``more`` is known to wait."""

    done: int
    more: bool = False


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGTERM or SIGINT while the block runs; the previous handlers come back
    after it. Workers check it between units of work, so the current one always finishes."""
    stop = threading.Event()

    def request_stop(signum, frame):
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_worker(
    step: Callable[[], Progress],
    *,
    stop: threading.Event,
    poll_seconds: float,
    once: bool = False,
    pace: Callable[[Progress, float], float] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Call ``step`` until ``stop`` is set (``once``: until it reports nothing more waiting).

    ``pace(progress, seconds_the_step_took)`` returns how long to rest after a step that did
    some work (``0`` for none); it is not consulted with ``once``. With ``once`` a database
    outage is raised instead of waited out."""
    outages = 0
    while not stop.is_set():
        began = clock()
        try:
            progress = step()
        except OUTAGE as exc:
            if once:
                raise
            outages += 1
            delay = min(poll_seconds * 2**outages, MAX_OUTAGE_WAIT)
            logger.warning("Database unavailable (%s); trying again in %.1f s", exc, delay)
            connection.close()
            stop.wait(delay)
            continue
        outages = 0
        if progress.done and pace is not None and not once:
            rest = pace(progress, clock() - began)
            if rest > 0:
                stop.wait(rest)
        if not progress.more:
            if once:
                break
            stop.wait(poll_seconds)
