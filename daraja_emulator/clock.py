"""Time as M-Pesa sees it: East Africa Time, with a clock tests can move forward."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def _load_eat() -> tzinfo:
    try:
        return ZoneInfo("Africa/Nairobi")
    except ZoneInfoNotFoundError:
        # Kenya has kept UTC+3 without daylight saving since 1960, so a fixed offset is exact
        # on a machine without the tz database.
        return timezone(timedelta(hours=3), "EAT")


EAT = _load_eat()


class Clock:
    """Wall-clock time plus an offset, so token expiry and the Pull 48-hour window can be tested
    without sleeping. Every timestamp the emulator produces comes from here."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            offset = self._offset
        return datetime.now(UTC) + offset

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._offset += timedelta(seconds=seconds)
        return self.now()

    def reset(self) -> None:
        with self._lock:
            self._offset = timedelta(0)


def to_eat(moment: datetime) -> datetime:
    return moment.astimezone(EAT)


def mpesa_timestamp(moment: datetime) -> str:
    """``YYYYMMDDHHmmss`` in EAT: the format of ``TransTime`` and of status-result times."""
    return to_eat(moment).strftime("%Y%m%d%H%M%S")


def parse_local(value: str, *, end_of_day: bool = False) -> datetime:
    """Parse a user-supplied time. Naive values are EAT; a bare date means its start (or its
    last second with ``end_of_day``). Accepts ``YYYYMMDDHHmmss`` too. Raises ValueError."""
    text = value.strip()
    if len(text) == 14 and text.isdigit():
        parsed = datetime.strptime(text, "%Y%m%d%H%M%S")
    else:
        parsed = datetime.fromisoformat(text)
        if len(text) == 10 and end_of_day:
            parsed = parsed.replace(hour=23, minute=59, second=59)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=EAT)
    return parsed
