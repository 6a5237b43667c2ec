"""East Africa Time: how M-Pesa and the SACCO's staff tell time.

M-Pesa's times (``TransTime``, the statement's columns) are Kenyan wall-clock times; the database
stores UTC and pages show EAT. There is no daylight saving in Kenya, but the zone is still read
from the tz database rather than written as a fixed offset.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

EAT = ZoneInfo("Africa/Nairobi")


def eat_iso(moment: datetime) -> str:
    """``2026-11-27T14:30:15+03:00``: the form exports and reports use."""
    return moment.astimezone(EAT).isoformat()


def eat_midnight(day: date) -> datetime:
    """The first instant of ``day`` in Kenya."""
    return datetime(day.year, day.month, day.day, tzinfo=EAT)


def eat_moment(text: str, *, end_of_day: bool = False) -> datetime:
    """An ISO 8601 date or date-time as an aware moment; without an offset it is EAT, the time
    staff think in. A bare date is its first instant (or, with ``end_of_day``, its last).
    Raises ``ValueError`` naming the text."""
    from django.utils.dateparse import parse_date, parse_datetime

    moment = parse_datetime(text.strip())
    if moment is None:
        day = parse_date(text.strip())
        if day is None:
            raise ValueError(f"{text!r} is not an ISO 8601 date or date-time.")
        moment = datetime.combine(day, time.max if end_of_day else time.min)
    return moment.replace(tzinfo=EAT) if moment.tzinfo is None else moment
