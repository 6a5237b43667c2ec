"""How hard a capture worker works: a burst of callbacks is answered first, and no payment waits
long for capture (docs/decisions.md #18).

A worker that always rests three quarters of its time answers a burst fast but, under
sustained load, stores a fraction of what it answers: the backlog and its age grow without
bound. So the worker reads how long the oldest confirmation of each batch had waited and
works harder the older it is:

- up to ``relaxed_seconds`` it is busy at most ``busy_share`` of its time, in batches of
  ``batch``: a burst of a few seconds is answered first and captured moments later;
- from there its busy share rises with the wait, to never resting at ``catch_up_seconds``;
- past ``relaxed_seconds``, each batch that came back full is followed by one twice as big,
  up to ``max_batch``: the statements per batch are fixed, so a big batch costs less per
  payment; a batch that did not fill up brings the size back to ``batch``.

Pure arithmetic on what the step reports, so the tests need no clock and no timing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Pacing:
    busy_share: float  # the most of its time a worker captures while the backlog is young
    relaxed_seconds: float  # the wait up to which it rests that much
    catch_up_seconds: float  # the wait from which it never rests
    batch: int  # receipts per transaction while the backlog is young
    max_batch: int  # the most receipts per transaction when it has fallen behind

    def __post_init__(self) -> None:
        if not 0 < self.busy_share <= 1:
            raise ValueError(f"busy_share must be in (0, 1], not {self.busy_share}")
        if not 0 <= self.relaxed_seconds <= self.catch_up_seconds:
            raise ValueError("relaxed_seconds must be between 0 and catch_up_seconds")
        if not 1 <= self.batch <= self.max_batch:
            raise ValueError("batch must be between 1 and max_batch")

    def share(self, waited: float) -> float:
        """The most of its time the worker spends capturing after a batch whose oldest receipt
        had waited ``waited`` seconds."""
        if waited <= self.relaxed_seconds:
            return self.busy_share
        if waited >= self.catch_up_seconds:
            return 1.0
        behind = (waited - self.relaxed_seconds) / (self.catch_up_seconds - self.relaxed_seconds)
        return self.busy_share + (1.0 - self.busy_share) * behind

    def rest(self, *, busy_seconds: float, waited: float) -> float:
        """Seconds to rest after a batch that took ``busy_seconds``."""
        return busy_seconds * (1.0 / self.share(waited) - 1.0)

    def next_batch(self, current: int, *, full: bool, waited: float) -> int:
        """The size of the next batch after one of ``current`` receipts."""
        if not full or waited <= self.relaxed_seconds:
            return self.batch
        return min(max(current, self.batch) * 2, self.max_batch)
